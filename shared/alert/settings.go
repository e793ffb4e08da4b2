package alert

import (
	"net/url"

	"github.com/kgseller/kgseller/shared/aksk"
	"github.com/kgseller/kgseller/shared/config"
)

// Load reads the alert channels (docs/monitoring.md#channels): an SMN topic
// (MONITOR_SMN_TOPIC_URN, MONITOR_SMN_ENDPOINT), a robot webhook
// (MONITOR_WEBHOOK_URL, MONITOR_WEBHOOK_FORMAT, MONITOR_WEBHOOK_SECRET), either,
// both or none. Their URLs must be https unless MONITOR_ALLOW_HTTP (local runs).
func Load(l *config.Loader) Fanout {
	allowHTTP := l.Bool(config.MonitorAllowHTTP, false)
	var out Fanout
	if raw := l.String(config.MonitorSMNTopicURN, ""); raw != "" {
		urn, err := ParseTopicURN(raw)
		if err != nil {
			l.Invalid(config.MonitorSMNTopicURN, "is not an SMN topic URN (urn:smn:region:project_id:topic)")
		} else {
			endpoint := l.String(config.MonitorSMNEndpoint, "https://smn."+urn.Region+".myhuaweicloud.com")
			if !okURL(endpoint, allowHTTP) {
				l.Invalid(config.MonitorSMNEndpoint, "must be an https URL")
			}
			out = append(out, &SMN{
				Endpoint: endpoint, ProjectID: urn.ProjectID, TopicURN: raw,
				Credentials: aksk.Credentials{
					AK: l.String(config.CloudAK, ""), SK: l.String(config.CloudSK, ""),
					SecurityToken: l.String(config.CloudSecurityToken, ""),
				},
			})
		}
	}
	if hook := l.String(config.MonitorWebhookURL, ""); hook != "" {
		if !okURL(hook, allowHTTP) {
			l.Invalid(config.MonitorWebhookURL, "must be an https URL")
		}
		out = append(out, &Robot{
			URL:    hook,
			Format: l.Choice(config.MonitorWebhookFormat, FormatWeCom, Formats...),
			Secret: l.String(config.MonitorWebhookSecret, ""),
		})
	}
	return out
}

func okURL(raw string, allowHTTP bool) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "https" || (allowHTTP && u.Scheme == "http")
}
