// Package alert delivers the interface monitor's notices: to a Huawei Cloud SMN
// topic (smn.go, the PublishMessage API signed with AK/SK) and to a group robot's
// webhook in the JSON text-message format of WeCom, DingTalk or Feishu (robot.go).
// Which channels are used is a matter of settings (settings.go); a notice counts
// as delivered when at least one channel took it.
package alert

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind is what a notice announces.
type Kind string

// Notice kinds.
const (
	KindAlert    Kind = "alert"
	KindRecovery Kind = "recovery"
)

// Notice is one alert or recovery of one check.
type Notice struct {
	Kind  Kind
	Check string
	// Service names the deployment in the text (MONITOR_NAME).
	Service string
	// Failures is the streak that raised the alert, or that the recovery ended.
	Failures int
	Since    time.Time // the first failure of the streak
	At       time.Time
	Detail   string // what the last run found
	Advice   string // what to do
}

// Subject is the notice's one-line title (the SMN e-mail subject). It starts with
// the service name so a robot with a keyword rule can be set to it.
func (n Notice) Subject() string {
	word := "ALERT"
	if n.Kind == KindRecovery {
		word = "RECOVERED"
	}
	return fmt.Sprintf("[%s] %s: %s", n.Service, word, n.Check)
}

// Text is the notice's body, plain text.
func (n Notice) Text() string {
	var b strings.Builder
	b.WriteString(n.Subject())
	b.WriteString("\n")
	at := n.At.UTC().Format(time.RFC3339)
	since := n.Since.UTC().Format(time.RFC3339)
	switch {
	case n.Kind == KindRecovery && n.Since.IsZero():
		fmt.Fprintf(&b, "%s passes again at %s.\n", n.Check, at)
	case n.Kind == KindRecovery:
		fmt.Fprintf(&b, "%s passes again at %s after %d failed run(s) since %s (%s).\n", n.Check, at, n.Failures, since, n.At.Sub(n.Since).Round(time.Second))
	default:
		fmt.Fprintf(&b, "%s failed %d run(s) in a row since %s (now %s).\n", n.Check, n.Failures, since, at)
	}
	if n.Detail != "" {
		b.WriteString("Last result: " + n.Detail + "\n")
	}
	if n.Advice != "" && n.Kind == KindAlert {
		b.WriteString("What to do: " + n.Advice + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// Sender delivers notices over one channel.
type Sender interface {
	// Name names the channel in logs ("smn", "webhook:wecom").
	Name() string
	Send(ctx context.Context, n Notice) error
}

// Fanout sends to every sender and succeeds when at least one did; the error lists
// the channels that failed (never their URLs or credentials).
type Fanout []Sender

// Send delivers n.
func (f Fanout) Send(ctx context.Context, n Notice) (delivered int, err error) {
	var errs []error
	for _, s := range f {
		if e := s.Send(ctx, n); e != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name(), e))
			continue
		}
		delivered++
	}
	return delivered, errors.Join(errs...)
}
