package kgsim

import (
	"strings"
	"time"
)

// Debug values of the License suite. The debug tool sends seller-typed dummies; the
// console saves a case only when it answers 000000.
const (
	licenseCode  = "KGSIMLICENSECODE0001"
	licenseEvent = "KGSIM-EVENT-"
)

// licenseTime formats a time the way the getLicenseAsync example does
// ("2023-10-27 10:30:15 z", sic).
func licenseTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " z" }

// licenseProduct is the online License suite (docs/protocol.md#getlicenseasync, docs/protocol.md#license-code-activities):
// the instance an online-license product creates, getLicenseAsync on it, and the
// three license-code lifecycle calls, all on the URL bound to the License type.
func licenseProduct() *Product {
	getLicense := func(name, event, fingerprint string) Case {
		return Case{Name: name, Want: []string{codeOK, codeProcessing}, Body: func(e *Env) ([]byte, error) {
			id, err := e.Get(instanceKey(mockPeriodNew))
			if err != nil {
				return nil, err
			}
			// Day-aligned, so a repeated event carries the same values all day.
			day := e.Now().UTC().Truncate(24 * time.Hour)
			f := map[string]any{
				"activity": "getLicenseAsync", "instanceId": id, "eventId": event,
				"effectiveTime": licenseTime(day), "expireTime": licenseTime(day.AddDate(1, 0, 0)), "testFlag": "1",
			}
			if fingerprint != "" {
				f["deviceFingerprint"] = fingerprint
			}
			return jsonBody(f)
		}}
	}
	fixed := func(name string, f map[string]any) Case {
		return Case{Name: name, Want: []string{codeOK}, Body: func(*Env) ([]byte, error) { return jsonBody(f) }}
	}
	refresh := func(scene, order string) Case {
		return fixed("refreshLicenseCode "+scene+" "+order, map[string]any{
			"activity": "refreshLicenseCode", "expireTime": "20351124023618", "license": licenseCode, "orderId": order,
			"orderLineId": line(order), "productId": mockProductID, "scene": scene, "testFlag": "1",
		})
	}
	status := func(s string) Case {
		return fixed("updateLicenseCodeStatus "+s, map[string]any{"activity": "updateLicenseCodeStatus", "license": licenseCode, "status": s, "testFlag": "1"})
	}
	newInst := newInstanceCase("newInstance "+mockPeriodNew+" (online License instance)", mockPeriodNew)
	newInst.Burst = true
	long := strings.Repeat("A", 65)
	return &Product{
		Name:    "license",
		Summary: "online License: the instance, getLicenseAsync, refreshLicenseCode, updateLicenseCodeStatus, releaseLicenseCode",
		Setup:   []Case{newInst},
		Cases: []Case{
			getLicense("getLicenseAsync", licenseEvent+"0001", ""),
			getLicense("getLicenseAsync with deviceFingerprint", licenseEvent+"0002", "kgsim-device-fingerprint-0001"),
			refresh("RENEWAL", mockRenew),
			refresh("UNSUBSCRIBE_RENEWAL_PERIOD", mockUnsubscribe),
			status("FREEZE"),
			status("UNFREEZE"),
			fixed("releaseLicenseCode", map[string]any{"activity": "releaseLicenseCode", "license": licenseCode, "testFlag": "1"}),
			fixed("releaseLicenseCode by unsubscribe "+mockUnsubscribe, map[string]any{
				"activity": "releaseLicenseCode", "license": licenseCode, "orderId": mockUnsubscribe, "orderLineId": line(mockUnsubscribe), "testFlag": "1"}),
		},
		// The same event sent concurrently must yield one license; the answers can
		// only show that every copy succeeds.
		Duplicate: getLicense("getLicenseAsync (duplicates of one event)", licenseEvent+"0003", ""),
		Probe:     refresh("RENEWAL", mockRenew),
		Malformed: []Malformed{
			{Name: "not JSON", Body: []byte(`activity=getLicenseAsync`)},
			{Name: "unknown activity", Body: []byte(`{"activity":"getLicense","instanceId":"x","testFlag":"1"}`)},
			{Name: "getLicenseAsync without eventId", Body: []byte(`{"activity":"getLicenseAsync","effectiveTime":"2025-01-01 00:00:00 z","instanceId":"x","testFlag":"1"}`)},
			{Name: "getLicenseAsync instanceId of 65 characters", Body: []byte(`{"activity":"getLicenseAsync","effectiveTime":"2025-01-01 00:00:00 z","eventId":"e","instanceId":"` + long + `","testFlag":"1"}`)},
			{Name: "updateLicenseCodeStatus status PAUSE", Body: []byte(`{"activity":"updateLicenseCodeStatus","license":"` + licenseCode + `","status":"PAUSE","testFlag":"1"}`)},
			{Name: "refreshLicenseCode expireTime 2035", Body: []byte(`{"activity":"refreshLicenseCode","expireTime":"2035","license":"` + licenseCode + `","orderId":"o","orderLineId":"l","scene":"RENEWAL","testFlag":"1"}`)},
			{Name: "releaseLicenseCode license as a number", Body: []byte(`{"activity":"releaseLicenseCode","license":12345,"testFlag":"1"}`)},
		},
	}
}
