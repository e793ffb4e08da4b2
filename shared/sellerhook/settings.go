package sellerhook

import "github.com/kgseller/kgseller/shared/config"

// LoadSecrets reads PROVISION_WEBHOOK_SECRET (required) and, during a change,
// PROVISION_WEBHOOK_SECRET_PREVIOUS: they sign webhook calls and authenticate the
// application's callbacks and usage reports.
func LoadSecrets(l *config.Loader) Secrets {
	s, err := NewSecrets(l.Required(config.ProvisionWebhookSecret), l.String(config.ProvisionWebhookSecret+config.Previous, ""))
	if err != nil {
		return Secrets{}
	}
	return s
}
