package config

import (
	"log/slog"
	"os"
	"strings"

	"github.com/kgseller/kgseller/shared/redact"
)

// Logger returns the JSON logger functions write to stderr (FunctionGraph ships it
// to LTS), with every configured secret masked. LOG_LEVEL=debug|info|warn|error.
// Libraries that log through the default logger are masked too.
func Logger(src Source) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToLower(src(LogLevel)) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	h := slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	logger := slog.New(redact.Handler(h, redact.New(SecretValues(src)...)))
	slog.SetDefault(logger)
	return logger
}
