package licensecode

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/fakes/fakemkt"
	"github.com/kgseller/kgseller/shared/openapi"
)

const (
	ak = "TESTAK0000000000"
	sk = "test-sk-license-code"
)

func setup(t *testing.T) (*Client, *fakemkt.Server) {
	t.Helper()
	fake := fakemkt.New(ak, sk)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c, err := New(openapi.Options{Endpoint: srv.URL, AK: ak, SK: sk, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

// TestTestCodeActivateQueryReport walks a test code through what the console asks
// before publishing: activated (已激活) and queried (已检测), then a usage report.
func TestTestCodeActivateQueryReport(t *testing.T) {
	c, fake := setup(t)
	ctx := context.Background()
	code := fakemkt.TestCodePrefix + "0001"
	if _, err := c.Query(ctx, code); !errors.Is(err, ErrNotActivated) {
		t.Fatalf("query before activation: %v, want ErrNotActivated", err)
	}
	effect := time.Date(2026, 1, 2, 15, 35, 55, 0, time.UTC)
	info, err := c.Activate(ctx, code, effect)
	if err != nil {
		t.Fatal(err)
	}
	if info.LicenseCode != code || info.Status != "ALIVE" || info.ExpireTime == "" || len(info.Raw) == 0 {
		t.Fatalf("activation answered %+v", info)
	}
	q, err := c.Query(ctx, code)
	if err != nil || q.Status != "ALIVE" || q.LicenseCode != code {
		t.Fatalf("query: %+v %v", q, err)
	}
	one := 3
	if _, err := c.ReportUsage(ctx, []Usage{{License: code, Items: []UsageItem{{ID: "device-1"}, {ActiveNum: &one}}}}); err != nil {
		t.Fatal(err)
	}
	st, _ := fake.LicenseCode(code)
	if !st.Activated || !st.Checked || st.RealEffectTime != "20260102153555" || st.UsageReports != 1 {
		t.Fatalf("fake state %+v", st)
	}
	// Every call was signed and verified.
	for _, call := range fake.Calls() {
		if !call.Verified || call.AccessKey != ak {
			t.Fatalf("unverified call %+v", call)
		}
	}
}

// TestErrorMapping checks that each documented error answer becomes an error that
// matches its sentinel with errors.Is and is an *Error for errors.As.
func TestErrorMapping(t *testing.T) {
	c, fake := setup(t)
	ctx := context.Background()
	if _, err := c.Activate(ctx, fakemkt.TestCodePrefix+"0002", time.Time{}); err != nil {
		t.Fatal(err)
	}
	one := 1
	cases := []struct {
		name   string
		call   func() error
		want   *Error
		status int
	}{
		{"second activation", func() error { _, err := c.Activate(ctx, fakemkt.TestCodePrefix+"0002", time.Time{}); return err }, ErrIllegalState, 200},
		{"unclaimed", func() error { _, err := c.Activate(ctx, fakemkt.UnclaimedCodePrefix+"1", time.Time{}); return err }, ErrNotReceived, 200},
		{"unknown", func() error { _, err := c.Activate(ctx, "PLNOSUCHCODE", time.Time{}); return err }, ErrNotExist, 200},
		{"expired code", func() error { _, err := c.Activate(ctx, fakemkt.ExpiredCodePrefix+"1", time.Time{}); return err }, ErrIllegalState, 200},
		{"query unknown", func() error { _, err := c.Query(ctx, "PLNOSUCHCODE"); return err }, ErrNotExist, 200},
		{"batch with an invalid code", func() error {
			_, err := c.ActivateBatch(ctx, []string{fakemkt.TestCodePrefix + "0003", "PLNOSUCHCODE"}, time.Time{})
			return err
		}, ErrInvalidInBatch, 200},
		{"usage of a code not activated", func() error {
			_, err := c.ReportUsage(ctx, []Usage{{License: fakemkt.TestCodePrefix + "0004", Items: []UsageItem{{ActiveNum: &one}}}})
			return err
		}, ErrNotActivated, 200},
		// The client refuses these arguments itself; sent raw, the fake answers 95000001.
		{"empty code sent raw", func() error { _, err := c.call(ctx, PathActivateV1, map[string]string{"license": ""}); return err }, ErrReqParamInvalid, 400},
		{"body not an object", func() error { _, err := c.call(ctx, PathHeartbeatV1, []int{1}); return err }, ErrNotReadable, 400},
	}
	for _, tc := range cases {
		err := tc.call()
		var e *Error
		if !errors.Is(err, tc.want) || !errors.As(err, &e) || e.HTTPStatus != tc.status {
			t.Errorf("%s: %v, want %s (HTTP %d)", tc.name, err, tc.want.Code, tc.status)
			continue
		}
		for _, other := range []*Error{ErrInternal, ErrInvalidParam, ErrIllegalState, ErrNotReceived, ErrNotExist, ErrNotActivated, ErrInvalidInBatch, ErrReqParamInvalid, ErrNotReadable, ErrUnauthorized} {
			if other != tc.want && errors.Is(err, other) {
				t.Errorf("%s: also matches %s", tc.name, other.Code)
			}
		}
		if Temporary(err) {
			t.Errorf("%s: reported as temporary", tc.name)
		}
	}
	// The batch with an invalid code activated nothing.
	if st, _ := fake.LicenseCode(fakemkt.TestCodePrefix + "0003"); st.Activated {
		t.Fatal("a failed batch activated a code")
	}
	// A valid batch activates all of its codes.
	if _, err := c.ActivateBatch(ctx, []string{fakemkt.TestCodePrefix + "0005", fakemkt.TestCodePrefix + "0006"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"0005", "0006"} {
		if st, _ := fake.LicenseCode(fakemkt.TestCodePrefix + code); !st.Activated {
			t.Fatalf("batch did not activate %s", code)
		}
	}

	// A server error is temporary, and keeps its HTTP status.
	fake.Fail(PathHeartbeatV1, fakemkt.Fault{Status: http.StatusServiceUnavailable})
	_, err := c.Query(ctx, fakemkt.TestCodePrefix+"0002")
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus != http.StatusServiceUnavailable || !Temporary(err) {
		t.Fatalf("injected 503: %v", err)
	}
}

func TestWrongSecretIsUnauthorized(t *testing.T) {
	_, fake := setup(t)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c, _ := New(openapi.Options{Endpoint: srv.URL, AK: ak, SK: "wrong-secret"})
	_, err := c.Activate(context.Background(), fakemkt.TestCodePrefix+"0009", time.Time{})
	if !errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrNotExist) {
		t.Fatalf("wrong secret: %v", err)
	}
	if len(fake.Calls()) != 1 || fake.Calls()[0].Verified {
		t.Fatalf("calls %+v", fake.Calls())
	}
}

// TestArgumentsCheckedBeforeSending: nothing is sent for arguments the API would
// refuse.
func TestArgumentsCheckedBeforeSending(t *testing.T) {
	c, fake := setup(t)
	ctx := context.Background()
	big := make([]string, MaxBatch+1)
	for i := range big {
		big[i] = fakemkt.TestCodePrefix + "X"
	}
	one := 1
	for name, call := range map[string]func() error{
		"empty code":   func() error { _, err := c.Activate(ctx, "", time.Time{}); return err },
		"65-char code": func() error { _, err := c.Query(ctx, strings.Repeat("P", 65)); return err },
		"101 codes":    func() error { _, err := c.ActivateBatch(ctx, big, time.Time{}); return err },
		"no codes":     func() error { _, err := c.ActivateBatch(ctx, nil, time.Time{}); return err },
		"id and number": func() error {
			_, err := c.ReportUsage(ctx, []Usage{{License: "PL1", Items: []UsageItem{{ID: "a", ActiveNum: &one}}}})
			return err
		},
		"neither": func() error {
			_, err := c.ReportUsage(ctx, []Usage{{License: "PL1", Items: []UsageItem{{}}}})
			return err
		},
		"no usage items":  func() error { _, err := c.ReportUsage(ctx, []Usage{{License: "PL1"}}); return err },
		"no usage at all": func() error { _, err := c.ReportUsage(ctx, nil); return err },
		"negative clients": func() error {
			n := -1
			_, err := c.ReportUsage(ctx, []Usage{{License: "PL1", Items: []UsageItem{{ActiveNum: &n}}}})
			return err
		},
	} {
		err := call()
		if err == nil || Temporary(err) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := len(fake.Calls()); n != 0 {
		t.Fatalf("%d calls were sent", n)
	}
}
