package kgsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/probe"
)

// Codes the probes expect (docs/protocol.md#result-codes).
const (
	codeAuth       = "000001"
	codeBadRequest = "000002"
)

// staleBy is how far outside the window the stale probes sign: beyond the 60 s a
// timestamp may be old, and beyond the few minutes servers tolerate ahead.
const staleBy = 10 * time.Minute

// probes builds the replay, stale, forged and signature probes around the
// product's Probe case. Each signs the probe body itself, so each is independent of
// the order the round runs them in.
func (r *runner) probes() []unit {
	pc := r.p.Probe
	cli := r.client(pc.Path)
	timestamp := func(d time.Duration) string { return strconv.FormatInt(r.o.Now().Add(d).UnixMilli(), 10) }

	// one signs the probe body with prepare and expects want.
	one := func(phase, name string, want []string, prepare func(body []byte) (probe.Signed, error)) unit {
		return func(ctx context.Context, round int) Result {
			body, err := pc.Body(r.env)
			if err != nil {
				return r.notBuilt(phase, round, name, pc.Path, wants(want), err)
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

	us := []unit{
		// The same request twice: the first must pass, the exact replay must not.
		func(ctx context.Context, round int) Result {
			name := "replay: the same signed request sent twice"
			want := wants(pc.Want) + " then " + codeAuth
			body, err := pc.Body(r.env)
			if err != nil {
				return r.notBuilt(PhaseReplay, round, name, pc.Path, want, err)
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
		one(PhaseStale, "stale: timestamp 10 minutes old", auth, func(body []byte) (probe.Signed, error) {
			return cli.SignWith(body, probe.NewNonce(), timestamp(-staleBy))
		}),
		one(PhaseStale, "stale: timestamp 10 minutes ahead", auth, func(body []byte) (probe.Signed, error) {
			return cli.SignWith(body, probe.NewNonce(), timestamp(staleBy))
		}),
		one(PhaseForged, "forged: signed with another key", auth, func(body []byte) (probe.Signed, error) {
			other := *cli
			other.Key = wrongKey
			return other.Sign(body)
		}),
		one(PhaseForged, "forged: a field added after signing", auth, func(body []byte) (probe.Signed, error) {
			s, err := cli.Sign(body)
			if err != nil {
				return s, err
			}
			// Another JSON value, in the raw bytes and in the canonical form alike.
			s.Body, err = addField(body, "kgsimTampered", "1")
			return s, err
		}),
		one(PhaseForged, "forged: no signature", auth, func(body []byte) (probe.Signed, error) {
			s, err := cli.Sign(body)
			if err != nil {
				return s, err
			}
			return unsigned(s, r.p.Kit)
		}),
		one(PhaseSignature, "signature: lower-case hex accepted", pc.Want, func(body []byte) (probe.Signed, error) {
			s, err := cli.Sign(body)
			if err != nil {
				return s, err
			}
			return lowerSignature(s, r.p.Kit)
		}),
		one(PhaseSignature, "signature: over the canonical form of a reordered, spaced body (Huawei's Java sample)", pc.Want,
			func(body []byte) (probe.Signed, error) {
				sent, err := reshape(body)
				if err != nil {
					return probe.Signed{}, err
				}
				canonical := kgsign.CanonicalBasic
				if r.p.Kit {
					canonical = kgsign.CanonicalKit
				}
				c, err := canonical(sent)
				if err != nil {
					return probe.Signed{}, err
				}
				s, err := cli.Sign(c)
				s.Body = sent
				return s, err
			}),
	}
	if !r.p.Kit || r.o.KitHashedPayload {
		// The Kit's documented formula has no inner digest.
		us = append(us, one(PhaseSignature, "signature: plain SHA-256 inner digest accepted", pc.Want, func(body []byte) (probe.Signed, error) {
			c := *cli
			c.InnerDigest = kgsign.DigestSHA256
			return c.Sign(body)
		}))
	}
	return us
}

// addField returns a JSON object body with one more string field.
func addField(body []byte, name, value string) ([]byte, error) {
	b := bytes.TrimSpace(body)
	if len(b) < 2 || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("the probe body is not a JSON object")
	}
	field, _ := json.Marshal(map[string]string{name: value})
	sep := ","
	if bytes.Equal(bytes.TrimSpace(b[1:len(b)-1]), nil) {
		sep = ""
	}
	return append(append(append([]byte(nil), b[:len(b)-1]...), sep...), field[1:]...), nil
}

// reshape writes a JSON object body with its keys in descending order and spaces
// after the separators: the same value in other bytes, as a marketplace that signs
// the canonical form (not the bytes) may send it.
func reshape(body []byte) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("the probe body is not a JSON object: %w", err)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	var b bytes.Buffer
	b.WriteString("{ ")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		name, _ := json.Marshal(k)
		b.Write(name)
		b.WriteString(": ")
		b.Write(fields[k])
	}
	b.WriteString(" }")
	return b.Bytes(), nil
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
func unsigned(s probe.Signed, kit bool) (probe.Signed, error) {
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
func lowerSignature(s probe.Signed, kit bool) (probe.Signed, error) {
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
