package kgsim_test

import (
	"bytes"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/tools/kgsim"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata")

var port = regexp.MustCompile(`127\.0\.0\.1:\d+`)

// golden writes a report as the command prints it, with times and ports
// normalised, and compares it with testdata/<name>.golden.
func golden(t *testing.T, name string, rep *kgsim.Report, verbose bool) string {
	t.Helper()
	rep.DurationMS, rep.SlowestMS, rep.SlowestOf = 0, 0, ""
	for i := range rep.Results {
		rep.Results[i].MaxMS = 0
		// Whether a copy of the passing burst that creates an instance answers
		// 000000 (it completed in its request) or 000004 depends on timing.
		if r := &rep.Results[i]; r.Status == kgsim.StatusPass && r.Round == 0 && strings.HasSuffix(r.Case, " concurrent") &&
			(r.Code == "000000" || r.Code == "000004") {
			r.Code = "000000,000004"
		}
	}
	var b bytes.Buffer
	if err := rep.WriteTable(&b, verbose); err != nil {
		t.Fatal(err)
	}
	got := port.ReplaceAllString(b.String(), "127.0.0.1:PORT")
	for _, l := range strings.Split(got, "\n") {
		if strings.HasPrefix(l, "  FAIL  ") || strings.HasPrefix(l, "  go run ") || strings.HasPrefix(l, "  {") {
			continue // not the table
		}
		if n := utf8.RuneCountInString(l); n > kgsim.TableWidth {
			t.Errorf("line of %d columns: %s", n, l)
		}
	}
	if strings.Contains(got, "signature=") || strings.Contains(got, "nonce=") {
		t.Errorf("a signed query string is printed:\n%s", got)
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("report differs from %s (go test -update rewrites it):\n%s", path, got)
	}
	return got
}

func small(o kgsim.Options) kgsim.Options {
	o.Rounds, o.Duplicates, o.Seed = 1, 2, 11
	return o
}

// TestHeadlineNothingListens: a closed port is named once, with what to do,
// and the cases the missing instance kept from running are one line.
func TestHeadlineNothingListens(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/saas/produce"
	ln.Close()
	rep := run(t, url, small(kgsim.Options{KeyFrom: kgsim.FromStateFile}))
	out := golden(t, "headline-refused", rep, false)
	if !strings.HasPrefix(flat(out), "FAILED: nothing listens at http://127.0.0.1:PORT/saas/produce: start the local run (go run ./scripts/local) or check -url") ||
		!strings.Contains(out, "not run: setup step \"newInstance MOCKPERIODYEARNEW ×2 concurrent\" failed") {
		t.Fatalf("report:\n%s", out)
	}
}

// TestHeadlineWrongKey: a server with another key answers every call 000001;
// the headline names the key's source, never the key.
func TestHeadlineWrongKey(t *testing.T) {
	t.Parallel()
	o := small(kgsim.Options{KeyFrom: "KG_ACCESS_KEY"})
	o.Type, o.URL, o.Key = "saas", saasServer(t, nil), kgsign.NewKey([]byte("kgsim-wrong-key-value"), "w")
	o.Timeout = 30e9
	rep, err := kgsim.Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	out := golden(t, "headline-wrong-key", rep, false)
	if !strings.HasPrefix(flat(out), "FAILED: every call answered 000001 (authentication failed): the access key or the clock differs from the server's (key tried: KG_ACCESS_KEY)") ||
		strings.Contains(out, "kgsim-wrong-key-value") {
		t.Fatalf("report:\n%s", out)
	}
}

// TestHeadlineNotFound: every answer a 404 names the URL.
func TestHeadlineNotFound(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	rep := run(t, srv.URL+"/saas/produce", small(kgsim.Options{}))
	out := golden(t, "headline-404", rep, false)
	if !strings.HasPrefix(flat(out), "FAILED: every call answered 404: wrong path or the function is not deployed (http://127.0.0.1:PORT/saas/produce)") {
		t.Fatalf("report:\n%s", out)
	}
}

// TestNoHeadlineForMixedFailures: failures without a common cause are listed
// one by one, under no headline; -v adds each body and its sign command.
func TestNoHeadlineForMixedFailures(t *testing.T) {
	t.Parallel()
	url := saasServer(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if a := activityOf(r); a == "changeInstanceCheck" || a == "upgradeInstance" {
				http.Error(w, "broken on purpose", http.StatusInternalServerError)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	rep := run(t, url, small(kgsim.Options{}))
	out := golden(t, "headline-mixed", rep, false)
	if strings.Contains(out, "FAILED:") || !strings.Contains(out, "FAIL  changeInstanceCheck (round 1") || !strings.Contains(out, "FAIL  upgradeInstance") {
		t.Fatalf("report:\n%s", out)
	}
	var b bytes.Buffer
	if err := rep.WriteTable(&b, true); err != nil {
		t.Fatal(err)
	}
	v := b.String()
	for _, want := range []string{
		"go run ./scripts/sign changeInstanceCheck -instance ",
		"go run ./scripts/sign refreshInstance -instance ",
		"go run ./scripts/sign queryInstance -instance ",
		"-order MOCKMONTYUNSUBSCRIBE -set expireTime=20341124023618 -set scene=UNSUBSCRIBE_RENEWAL_PERIOD",
		"go run ./scripts/sign newInstance -order MOCKONETIMENEW",
		`go run ./scripts/sign -url http://127.0.0.1:`,
	} {
		if !strings.Contains(v, want) {
			t.Errorf("-v lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "signature=") || strings.Contains(v, "-key") {
		t.Errorf("-v prints a signature or a key:\n%s", v)
	}
}

// flat joins the words of a report with single spaces, so that a wrapped
// headline reads as one line.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }
