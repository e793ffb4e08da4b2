// Package loadtest holds the load and fault-tolerance suite: concurrent duplicate
// orders, long random-order debug replays, the database cut mid-load by a TCP
// proxy, and the worker killed at each step of a job, all through the real
// function binaries under the local emulator. The tests carry the build tag load
// (go test -tags load ./shared/tools/loadtest; -short runs the CI form); this file is the
// TCP proxy they put between the functions and the database.
package loadtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Proxy forwards TCP connections to a target and can break them on demand: Cut
// closes every connection and refuses new ones (what a database crash or a
// failover looks like to a client), Hang stops forwarding while keeping
// connections open (a network partition), Restore lets traffic through again.
type Proxy struct {
	target string
	addr   string

	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]struct{}
	state    proxyState
	accepted int
	closed   bool
	wg       sync.WaitGroup
}

type proxyState int

const (
	proxyUp proxyState = iota
	proxyCut
	proxyHung
)

// NewProxy listens on a free loopback port and forwards to target (host:port).
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("loadtest: proxy listener: %w", err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	return p, nil
}

// Addr is where clients connect.
func (p *Proxy) Addr() string { return p.addr }

// Accepted reports how many client connections the proxy has accepted.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.handle(c) }()
		}
	}()
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.state == proxyCut {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *Proxy) hung() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == proxyHung
}

func (p *Proxy) handle(client net.Conn) {
	if !p.track(client) {
		_ = client.Close()
		return
	}
	defer p.untrack(client)
	p.mu.Lock()
	p.accepted++
	p.mu.Unlock()
	if p.hung() {
		// A partition: the connection is accepted and nothing ever comes back.
		_, _ = io.Copy(io.Discard, client)
		return
	}
	server, err := net.DialTimeout("tcp", p.target, 3*time.Second)
	if err != nil {
		return
	}
	if !p.track(server) {
		_ = server.Close()
		return
	}
	defer p.untrack(server)
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client); done <- struct{}{} }()
	go func() { p.pipe(client, server); done <- struct{}{} }()
	<-done
	// One direction ended: close both, which ends the other.
	_ = client.Close()
	_ = server.Close()
	<-done
}

// pipe copies src to dst; while the proxy hangs, what is read is dropped.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.hung() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Cut closes every open connection and the listener: until Restore, connecting
// is refused.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.state = proxyCut
	ln := p.ln
	p.ln = nil
	conns := p.conns
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	for c := range conns {
		_ = c.Close()
	}
}

// Hang stops forwarding: open connections stay open but nothing they send is
// delivered, and new connections are accepted and left unanswered.
func (p *Proxy) Hang() {
	p.mu.Lock()
	p.state = proxyHung
	p.mu.Unlock()
}

// Restore lets traffic through again. Connections that were open while the proxy
// hung have lost data and are closed; after a cut the proxy listens again on the
// same address.
func (p *Proxy) Restore() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errors.New("loadtest: proxy closed")
	}
	prev := p.state
	p.state = proxyUp
	var stale []net.Conn
	if prev == proxyHung {
		for c := range p.conns {
			stale = append(stale, c)
		}
		p.conns = map[net.Conn]struct{}{}
	}
	p.mu.Unlock()
	for _, c := range stale {
		_ = c.Close()
	}
	if prev != proxyCut {
		return nil
	}
	var ln net.Listener
	var err error
	// The port was just released; a few tries cover a slow kernel.
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("loadtest: listening again on %s: %w", p.addr, err)
	}
	p.serve(ln)
	return nil
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.Cut()
	p.wg.Wait()
}
