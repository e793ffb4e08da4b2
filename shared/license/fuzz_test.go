package license

import (
	"errors"
	"testing"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/saas"
)

// FuzzDecode checks the License decoder (and the instance activities it hands to
// shared/saas) never panics and rejects anything it does not accept with a
// 000002 error.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"activity":"getLicenseAsync","instanceId":"i","eventId":"e","effectiveTime":"2023-10-27 10:30:15 z","expireTime":"2024-10-27 10:30:15 z","deviceFingerprint":"d","testFlag":"1"}`,
		`{"activity":"refreshLicenseCode","expireTime":"20351124023618","license":"PL1","orderId":"o","orderLineId":"l","productId":"p","scene":"RENEWAL"}`,
		`{"activity":"updateLicenseCodeStatus","license":"PL1","status":"FREEZE","testFlag":1}`,
		`{"activity":"releaseLicenseCode","license":"PL1","orderId":"o"}`,
		`{"activity":"newInstance","businessId":"b","orderId":"o","orderLineId":"l"}`,
		`{"activity":"getLicenseAsync","effectiveTime":"20231027103015000"}`, `{"activity":`, "\xff", `[]`,
	} {
		f.Add([]byte(seed))
	}
	s := &Service{Instances: (&saas.Service{}).Decode}
	f.Fuzz(func(t *testing.T, body []byte) {
		op, err := s.Decode(body)
		if err != nil {
			var me *marketplace.Error
			if !errors.As(err, &me) || me.Code != marketplace.BadRequest {
				t.Fatalf("decode error %v is not a 000002 error", err)
			}
			return
		}
		if op == nil || op.Name() == "" {
			t.Fatalf("accepted %q without an operation", body)
		}
	})
}
