package provision

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/sellerhook"
)

// Load builds the configured provisioner: PROVISIONER=static (the default), with
// PROVISION_FRONTEND_URL (required), PROVISION_ADMIN_URL and PROVISION_MEMO; or
// webhook, with PROVISION_WEBHOOK_URL and PROVISION_WEBHOOK_SECRET.
func Load(l *config.Loader) Provisioner {
	switch l.Choice(config.Provisioner, "static", "static", "webhook") {
	case "webhook":
		rawURL := l.Required(config.ProvisionWebhookURL)
		secrets := sellerhook.LoadSecrets(l)
		allowHTTP := l.Bool(config.ProvisionWebhookAllowHTTP, false)
		if rawURL == "" {
			return nil
		}
		w, err := NewWebhook(rawURL, secrets, allowHTTP)
		if err != nil {
			l.Invalid(config.ProvisionWebhookURL, "must be an absolute https URL")
			return nil
		}
		return w
	default:
		return Static{
			FrontEndURL: l.Required(config.ProvisionFrontEndURL),
			AdminURL:    l.String(config.ProvisionAdminURL, ""),
			Memo:        l.String(config.ProvisionMemo, ""),
		}
	}
}
