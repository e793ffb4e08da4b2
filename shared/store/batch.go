package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// A batch is a write made of several statements, sent as one transaction in as
// few round trips as the packet limit allows: the statements are joined into
// multi-statement queries (the DSN enables multiStatements), the first opening
// the transaction and the last committing it, so a batch that fits one packet is
// one round trip whatever its number of rows. Values stay placeholders; the
// driver interpolates and escapes each one.

// defaultMaxPacket bounds the SQL text of one round trip: under every common
// server default of max_allowed_packet (MySQL 5.7: 4 MiB, MariaDB: 16 MiB,
// MySQL 8: 64 MiB), with room for the protocol's framing.
const defaultMaxPacket = 4<<20 - 64<<10

// packetMargin is kept free below a packet limit taken from the DSN.
const packetMargin = 1 << 10

const (
	txBegin  = "START TRANSACTION;\n"
	txCommit = ";\nCOMMIT"
)

type statement struct {
	query string
	args  []any
	size  int // bytes once the driver has interpolated the arguments
}

type batch struct {
	limit int
	stmts []statement
}

func (s *Store) newBatch() *batch { return &batch{limit: s.maxPacket} }

// add appends one statement.
func (b *batch) add(query string, args ...any) {
	b.stmts = append(b.stmts, statement{query: query, args: args, size: len(query) + argsSize(args) - len(args)})
}

// addList appends head, the n items joined by commas, then tail, split into as
// many statements as the packet limit needs: a multi-row INSERT (item "(?,…,?)")
// or an IN list (item "?"). headArgs belong to head and are repeated in each
// statement; itemArgs(i) returns the arguments of item i.
func (b *batch) addList(head string, headArgs []any, item, tail string, n int, itemArgs func(i int) []any) {
	fixed := len(head) + argsSize(headArgs) - len(headArgs) + len(tail)
	room := b.limit - len(txBegin) - len(txCommit)
	var q strings.Builder
	var args []any
	size, items := 0, 0
	flush := func() {
		q.WriteString(tail)
		b.stmts = append(b.stmts, statement{query: q.String(), args: args, size: fixed + size})
		q.Reset()
		args, size, items = nil, 0, 0
	}
	for i := 0; i < n; i++ {
		a := itemArgs(i)
		is := len(item) + 1 + argsSize(a) - len(a)
		if items > 0 && fixed+size+is > room {
			flush()
		}
		if items == 0 {
			q.WriteString(head)
			args = append(args, headArgs...)
		} else {
			q.WriteString(",")
		}
		q.WriteString(item)
		args = append(args, a...)
		size += is
		items++
	}
	if items > 0 {
		flush()
	}
}

// placeholders returns "(?,…,?)" for a row of n columns.
func placeholders(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")"
}

// packets groups the statements into round trips, in order, each within the limit.
func (b *batch) packets() [][]statement {
	var out [][]statement
	var cur []statement
	size := len(txBegin) + len(txCommit)
	for _, st := range b.stmts {
		if len(cur) > 0 && size+st.size+2 > b.limit {
			out = append(out, cur)
			cur, size = nil, len(txBegin)+len(txCommit)
		}
		cur = append(cur, st)
		size += st.size + 2
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// runBatch sends b as one transaction. A single statement is sent alone, being
// atomic by itself. InnoDB deadlocks, possible when concurrent batches lock the
// same keys, rerun the whole batch.
func (s *Store) runBatch(ctx context.Context, b *batch) error {
	if len(b.stmts) == 0 {
		return nil
	}
	var err error
	for round := 0; round < 4; round++ {
		if len(b.stmts) == 1 {
			_, err = s.db.ExecContext(ctx, b.stmts[0].query, b.stmts[0].args...)
		} else {
			err = s.sendBatch(ctx, b.packets())
		}
		if !isDeadlock(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
	}
	return err
}

// sendBatch runs the packets on one connection. When a statement fails the server
// stops there with the transaction open; it is rolled back, or the connection
// dropped, so that nothing later runs inside it.
func (s *Store) sendBatch(ctx context.Context, packets [][]statement) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: connection: %w", err)
	}
	defer conn.Close()
	for i, p := range packets {
		var q strings.Builder
		var args []any
		if i == 0 {
			q.WriteString(txBegin)
		}
		for j, st := range p {
			if j > 0 {
				q.WriteString(";\n")
			}
			q.WriteString(st.query)
			args = append(args, st.args...)
		}
		if i == len(packets)-1 {
			q.WriteString(txCommit)
		}
		if _, err = conn.ExecContext(ctx, q.String(), args...); err != nil {
			break
		}
	}
	if err == nil {
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if _, rbErr := conn.ExecContext(rctx, "ROLLBACK"); rbErr != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return err
}

// argsSize is the length of the arguments as the driver writes them into the
// query: strings quoted, with the characters it escapes doubled.
func argsSize(args []any) int {
	n := 0
	for _, a := range args {
		n += argSize(a)
	}
	return n
}

func argSize(a any) int {
	if v, ok := a.(driver.Valuer); ok {
		var err error
		if a, err = v.Value(); err != nil {
			return 64
		}
	}
	switch v := a.(type) {
	case nil:
		return 4
	case string:
		return 2 + len(v) + escapes(v)
	case []byte:
		return 9 + len(v) + escapes(string(v))
	case bool:
		return 1
	case int:
		return len(strconv.Itoa(v))
	case int64:
		return len(strconv.FormatInt(v, 10))
	case time.Time:
		return len("'2006-01-02 15:04:05.999999'")
	}
	return 64
}

// escapes counts the bytes the driver escapes with a backslash.
func escapes(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0, '\n', '\r', 0x1a, '\'', '"', '\\':
			n++
		}
	}
	return n
}
