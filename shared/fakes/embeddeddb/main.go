package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "host:port to listen on (port 0 picks a free one)")
	flag.Parse()
	srv, err := Start(*addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "embeddeddb:", err)
		os.Exit(1)
	}
	fmt.Printf("listening %s\n", srv.Addr())
	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stdinClosed)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-stdinClosed:
	case <-sig:
	}
	_ = srv.Close()
}
