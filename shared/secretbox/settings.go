package secretbox

import "github.com/kgseller/kgseller/shared/config"

// Load reads KG_DATA_KEY: nil when it is unset and not required.
func Load(l *config.Loader, required bool) *Box {
	v := l.String(config.DataKey, "")
	if v == "" {
		if required {
			l.Missing(config.DataKey)
		}
		return nil
	}
	box, err := New(v)
	if err != nil {
		l.Invalid(config.DataKey, "must be 32 bytes, base64-encoded")
		return nil
	}
	return box
}
