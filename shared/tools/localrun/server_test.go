package localrun

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestServerTimeouts: the local run's server closes a connection that sends its
// headers too slowly, one that stalls in its body and one left idle after an
// answer, as a gateway does. The timeouts are shortened here; NewServer sets the
// real ones.
func TestServerTimeouts(t *testing.T) {
	t.Parallel()
	srv := NewServer(http.NotFoundHandler())
	if srv.ReadHeaderTimeout != ReadHeaderTimeout || srv.ReadTimeout != ReadTimeout || srv.IdleTimeout != IdleTimeout ||
		ReadHeaderTimeout <= 0 || ReadTimeout <= 0 || IdleTimeout <= 0 {
		t.Fatalf("NewServer timeouts: header %v, read %v, idle %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout)
	}
	short := serverTimeouts{header: 200 * time.Millisecond, read: 400 * time.Millisecond, idle: 200 * time.Millisecond}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "body not received in time", http.StatusRequestTimeout)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(h, short)
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { s.Close() })

	for name, send := range map[string]string{
		"slow headers": "POST / HTTP/1.1\r\nHost: local\r\n",
		"stalled body": "POST / HTTP/1.1\r\nHost: local\r\nContent-Length: 100\r\n\r\n0123456789",
		"idle":         "GET / HTTP/1.1\r\nHost: local\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, send); err != nil {
			t.Fatal(err)
		}
		// A generous guard: the server must close first.
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		rd := bufio.NewReader(conn)
		if name == "idle" {
			resp, err := http.ReadResponse(rd, nil)
			if err != nil {
				t.Fatalf("idle: %v", err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		_, err = io.Copy(io.Discard, rd)
		conn.Close()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s: the server kept the connection open", name)
		} else if err != nil && !strings.Contains(err.Error(), "reset") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
