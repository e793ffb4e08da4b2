package monitor

import (
	"net/url"
	"time"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
)

// Load reads the monitor's settings (docs/monitoring.md#settings). Each
// production URL is optional; the key of its interface type is required once the
// URL is set.
func Load(l *config.Loader) Config {
	c := Config{
		Name:             l.String(config.MonitorName, DefaultName),
		SaaSURL:          monitorURL(l, config.MonitorSaaSURL),
		LicenseURL:       monitorURL(l, config.MonitorLicenseURL),
		KitURL:           monitorURL(l, config.MonitorKitURL),
		NotifyURL:        monitorURL(l, config.MonitorNotifyURL),
		KitHashedPayload: l.Bool(config.KitHashedPayload, false),
		ProbeOrderID:     l.String(config.MonitorProbeOrderID, DefaultProbeOrderID),
		ProbeBusinessID:  l.String(config.MonitorProbeBusinessID, DefaultProbeBusinessID),
		Timeout:          l.Duration(config.MonitorTimeout, DefaultTimeout),
		FailAfter:        l.Int(config.MonitorFailAfter, DefaultFailAfter),
		CertWarn:         time.Duration(l.Int(config.MonitorCertWarnDays, DefaultCertWarnDays)) * 24 * time.Hour,
		JobAge:           l.Duration(config.MonitorJobAge, DefaultJobAge),
		ProvisioningAge:  l.Duration(config.MonitorProvisioningAge, DefaultProvisioningAge),
		DeadJobsMax:      l.Int(config.MonitorDeadJobsMax, 0),
		NoncesMax:        int64(l.Int(config.MonitorNoncesMax, DefaultNoncesMax)),
		RunsKept:         l.Int(config.MonitorRunsKept, DefaultRunsKept),
	}
	if c.SaaSURL != "" {
		c.BasicKey = endpoint.LoadKeys(l, config.KeyBasic).Primary()
	}
	if c.LicenseURL != "" {
		c.LicenseKey = endpoint.LoadKeys(l, config.KeyLicense).Primary()
	}
	if c.KitURL != "" {
		c.KitKey = endpoint.LoadKeys(l, config.KeyKit).Primary()
	}
	if c.NotifyURL != "" {
		c.NotifyKey = endpoint.LoadKeys(l, config.KeyNotify).Primary()
	}
	if c.FailAfter < 1 {
		l.Invalid(config.MonitorFailAfter, "must be at least 1")
	}
	if len(c.ProbeOrderID) > 57 {
		l.Invalid(config.MonitorProbeOrderID, "must be at most 57 characters (its order line adds 7)")
	}
	if len(c.ProbeBusinessID) > 64 {
		l.Invalid(config.MonitorProbeBusinessID, "must be at most 64 characters")
	}
	return c
}

// monitorURL reads one production URL: http or https, with a host.
func monitorURL(l *config.Loader, name string) string {
	raw := l.String(name, "")
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.Invalid(name, "must be an http(s) URL")
		return ""
	}
	return raw
}
