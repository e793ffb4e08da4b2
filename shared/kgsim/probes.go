package kgsim

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kgseller/kgseller/shared/kgclient"
	"github.com/kgseller/kgseller/shared/kgsign"
)

// Codes the probes expect (docs/protocol.md#result-codes).
const (
	codeAuth       = "000001"
	codeBadRequest = "000002"
)

// staleBy is how far outside the ±60 s window the stale probes sign.
const staleBy = 10 * time.Minute

// probes builds the replay, stale, forged and signature probes around the
// product's Probe case. Each signs the probe body itself, so each is independent of
// the order the round runs them in.
func (r *runner) probes() []unit {
	pc := r.p.Probe
	cli := r.client(pc.Path)
	timestamp := func(d time.Duration) string { return strconv.FormatInt(r.o.Now().Add(d).UnixMilli(), 10) }

	// one signs the probe body with prepare and expects want.
	one := func(phase, name string, want []string, prepare func(body []byte) (kgclient.Signed, error)) unit {
		return func(ctx context.Context, round int) Result {
			body, err := pc.Body(r.env)
			if err != nil {
				return r.result(phase, round, name, pc.Path, wants(want), nil, []string{err.Error()})
			}
			s, err := prepare(body)
			if err != nil {
				return r.result(phase, round, name, pc.Path, wants(want), nil, []string{err.Error()})
			}
			cl := r.send(ctx, cli, s)
			var c *Case
			if phase == PhaseSignature {
				c = &pc
			}
			return r.result(phase, round, name, pc.Path, wants(want), []call{cl}, r.judge(cl, want, c))
		}
	}
	auth := []string{codeAuth}
	wrongKey := kgsign.NewKey([]byte("kgsim-wrong-key-"+uuid.NewString()), "kgsim-wrong")

	return []unit{
		// The same request twice: the first must pass, the exact replay must not.
		func(ctx context.Context, round int) Result {
			name := "replay: the same signed request sent twice"
			want := wants(pc.Want) + " then " + codeAuth
			body, err := pc.Body(r.env)
			if err != nil {
				return r.result(PhaseReplay, round, name, pc.Path, want, nil, []string{err.Error()})
			}
			s, err := cli.Sign(body)
			if err != nil {
				return r.result(PhaseReplay, round, name, pc.Path, want, nil, []string{err.Error()})
			}
			first := r.send(ctx, cli, s)
			second := r.send(ctx, cli, s)
			var problems []string
			for _, p := range r.judge(first, pc.Want, &pc) {
				problems = append(problems, "first call: "+p)
			}
			for _, p := range r.judge(second, auth, nil) {
				problems = append(problems, "replayed call (same nonce): "+p)
			}
			return r.result(PhaseReplay, round, name, pc.Path, want, []call{first, second}, problems)
		},
		one(PhaseStale, "stale: timestamp 10 minutes old", auth, func(body []byte) (kgclient.Signed, error) {
			return cli.SignWith(body, kgclient.NewNonce(), timestamp(-staleBy))
		}),
		one(PhaseStale, "stale: timestamp 10 minutes ahead", auth, func(body []byte) (kgclient.Signed, error) {
			return cli.SignWith(body, kgclient.NewNonce(), timestamp(staleBy))
		}),
		one(PhaseForged, "forged: signed with another key", auth, func(body []byte) (kgclient.Signed, error) {
			other := *cli
			other.Key = wrongKey
			return other.Sign(body)
		}),
		one(PhaseForged, "forged: body changed after signing", auth, func(body []byte) (kgclient.Signed, error) {
			s, err := cli.Sign(body)
			// One trailing space: the same JSON value, different bytes. A server that
			// verifies a re-serialised body instead of the raw bytes accepts it.
			s.Body = append(append([]byte(nil), body...), ' ')
			return s, err
		}),
		one(PhaseForged, "forged: no signature", auth, func(body []byte) (kgclient.Signed, error) {
			s, err := cli.Sign(body)
			if err != nil {
				return s, err
			}
			return unsigned(s, r.p.Kit)
		}),
		one(PhaseSignature, "signature: lower-case hex accepted", pc.Want, func(body []byte) (kgclient.Signed, error) {
			s, err := cli.Sign(body)
			if err != nil {
				return s, err
			}
			return lowerSignature(s, r.p.Kit)
		}),
	}
}

// malformed sends a correctly signed bad body, which must answer 000002.
func (r *runner) malformed(ctx context.Context, round int, m Malformed) Result {
	want := []string{codeBadRequest}
	name := "malformed: " + m.Name
	cli := r.client(m.Path)
	s, err := cli.Sign(m.Body)
	if err != nil {
		return r.result(PhaseMalformed, round, name, m.Path, codeBadRequest, nil, []string{err.Error()})
	}
	cl := r.send(ctx, cli, s)
	return r.result(PhaseMalformed, round, name, m.Path, codeBadRequest, []call{cl}, r.judge(cl, want, nil))
}

// unsigned strips the signature of a prepared request.
func unsigned(s kgclient.Signed, kit bool) (kgclient.Signed, error) {
	if kit {
		h := map[string]string{}
		for k, v := range s.Headers {
			if !strings.HasPrefix(strings.ToLower(k), "x-") {
				h[k] = v
			}
		}
		s.Headers = h
		return s, nil
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return s, err
	}
	u.RawQuery = ""
	s.URL = u.String()
	return s, nil
}

// lowerSignature writes the signature in lower-case hex, which the documentation's
// License example uses and servers must accept.
func lowerSignature(s kgclient.Signed, kit bool) (kgclient.Signed, error) {
	if kit {
		h := make(map[string]string, len(s.Headers))
		for k, v := range s.Headers {
			h[k] = v
		}
		h["x-sign"] = strings.ToLower(h["x-sign"])
		s.Headers = h
		return s, nil
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return s, err
	}
	q := u.Query()
	q.Set("signature", strings.ToLower(q.Get("signature")))
	u.RawQuery = q.Encode()
	s.URL = u.String()
	return s, nil
}
