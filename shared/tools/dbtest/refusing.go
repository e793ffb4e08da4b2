package dbtest

import (
	"encoding/binary"
	"net"
	"testing"
)

// RefusingServer greets every connection as a MySQL or MariaDB server at
// max_connections does: an error packet 1040 ("Too many connections") instead of
// its handshake. It returns a DSN for it; the listener closes when the test ends.
func RefusingServer(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	payload := append([]byte{0xff, 0, 0}, "Too many connections"...)
	binary.LittleEndian.PutUint16(payload[1:], 1040)
	packet := append([]byte{byte(len(payload)), 0, 0, 0}, payload...) // length, sequence 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write(packet)
			_ = c.Close()
		}
	}()
	return "kg:pw@tcp(" + ln.Addr().String() + ")/kg"
}
