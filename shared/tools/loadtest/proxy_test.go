package loadtest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(c net.Conn, msg string) (string, error) {
	if err := c.SetDeadline(time.Now().Add(300 * time.Millisecond)); err != nil {
		return "", err
	}
	if _, err := c.Write([]byte(msg + "\n")); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

func TestProxyCutHangRestore(t *testing.T) {
	p, err := NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dial := func() (net.Conn, error) { return net.DialTimeout("tcp", p.Addr(), time.Second) }

	c1, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(c1, "one"); err != nil || got != "one\n" {
		t.Fatalf("through the proxy: %q %v", got, err)
	}

	p.Cut()
	if _, err := roundTrip(c1, "two"); err == nil {
		t.Fatal("an open connection still works after Cut")
	}
	if c, err := dial(); err == nil {
		c.Close()
		t.Fatal("a new connection was accepted after Cut")
	}

	if err := p.Restore(); err != nil {
		t.Fatal(err)
	}
	c2, err := dial()
	if err != nil {
		t.Fatalf("dial after Restore: %v", err)
	}
	if got, err := roundTrip(c2, "three"); err != nil || got != "three\n" {
		t.Fatalf("after Restore: %q %v", got, err)
	}

	p.Hang()
	if _, err := roundTrip(c2, "four"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("an open connection while hung: %v, want a timeout", err)
	}
	c3, err := dial()
	if err != nil {
		t.Fatalf("a hung proxy must still accept: %v", err)
	}
	if _, err := roundTrip(c3, "five"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a new connection while hung: %v, want a timeout", err)
	}

	if err := p.Restore(); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(c3, "six"); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a connection that lost data while hung must be closed by Restore, got %v", err)
	}
	c4, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(c4, "seven"); err != nil || got != "seven\n" {
		t.Fatalf("after the hang: %q %v", got, err)
	}
	if n := p.Accepted(); n != 4 {
		t.Fatalf("%d connections accepted, want 4", n)
	}
}
