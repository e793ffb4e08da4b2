package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	"github.com/jmoiron/sqlx/reflectx"
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

// batchResult is what each statement of a batch reported, in order.
type batchResult struct {
	affected []int64 // rows affected (MySQL counts rows changed)
	ids      []int64 // the first AUTO_INCREMENT id generated, 0 if none
}

// affectedAt returns the rows statement i of the batch affected.
func (r batchResult) affectedAt(i int) int64 {
	if i < len(r.affected) {
		return r.affected[i]
	}
	return 0
}

// idAt returns the id statement i of the batch generated.
func (r batchResult) idAt(i int) int64 {
	if i < len(r.ids) {
		return r.ids[i]
	}
	return 0
}

// runBatch sends b as one transaction. A single statement is sent alone, being
// atomic by itself. InnoDB deadlocks, possible when concurrent batches lock the
// same keys, rerun the whole batch.
func (s *Store) runBatch(ctx context.Context, b *batch) error {
	_, err := s.execBatch(ctx, b)
	return err
}

// execBatch is runBatch reporting what each statement did.
func (s *Store) execBatch(ctx context.Context, b *batch) (batchResult, error) {
	if len(b.stmts) == 0 {
		return batchResult{}, nil
	}
	var res batchResult
	err := s.retryDeadlocks(ctx, func() error {
		var err error
		if len(b.stmts) == 1 {
			res, err = s.sendBatch(ctx, [][]statement{b.stmts}, false, nil)
		} else {
			res, err = s.sendBatch(ctx, b.packets(), true, nil)
		}
		return err
	})
	return res, err
}

// queryBatch sends b as one transaction in one round trip and hands the result
// sets of its queries, in order, to scan. A batch that reads and then writes
// under the read's locks (SELECT … FOR UPDATE) decides nothing between them:
// each write carries in its WHERE clause the condition under which it applies,
// evaluated on the locked rows, so that what Go concludes from the read is what
// the server did. It must fit one packet.
func (s *Store) queryBatch(ctx context.Context, b *batch, scan func(rows *sql.Rows) error) error {
	if p := b.packets(); len(p) != 1 {
		return fmt.Errorf("store: a query batch of %d packets", len(p))
	}
	return s.retryDeadlocks(ctx, func() error {
		_, err := s.sendBatch(ctx, [][]statement{b.stmts}, true, scan)
		return err
	})
}

// queryStatements sends b's statements in one round trip without a transaction,
// each committing on its own, and hands the result sets to scan.
func (s *Store) queryStatements(ctx context.Context, b *batch, scan func(rows *sql.Rows) error) error {
	_, err := s.sendBatch(ctx, [][]statement{b.stmts}, false, scan)
	return err
}

// retryDeadlocks runs send again after an InnoDB deadlock, which has rolled the
// whole transaction back, after a short random pause.
func (s *Store) retryDeadlocks(ctx context.Context, send func() error) error {
	var err error
	for round := 0; round < 4; round++ {
		if err = send(); !isDeadlock(err) {
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

// sendBatch runs the packets on one connection, the first opening the transaction
// and the last committing it when tx is set. With scan, the single packet is sent
// as a query and its result sets are scanned; otherwise each packet is executed
// and what each statement did is reported. When a statement fails the server
// stops there, with the transaction open; it is rolled back, or the connection
// dropped, so that nothing later runs inside it.
func (s *Store) sendBatch(ctx context.Context, packets [][]statement, tx bool, scan func(*sql.Rows) error) (batchResult, error) {
	var res batchResult
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("store: connection: %w", err)
	}
	defer conn.Close()
	for i, p := range packets {
		var q strings.Builder
		var args []any
		if tx && i == 0 {
			q.WriteString(txBegin)
		}
		for j, st := range p {
			if j > 0 {
				q.WriteString(";\n")
			}
			q.WriteString(st.query)
			args = append(args, st.args...)
		}
		if tx && i == len(packets)-1 {
			q.WriteString(txCommit)
		}
		if scan != nil {
			err = queryScan(ctx, conn, q.String(), args, scan)
		} else {
			err = execRecording(ctx, conn, q.String(), args, &res)
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		if tx && len(res.affected) >= 2 {
			// Drop what START TRANSACTION and COMMIT reported.
			res.affected, res.ids = res.affected[1:len(res.affected)-1], res.ids[1:len(res.ids)-1]
		}
		return res, nil
	}
	if tx {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if _, rbErr := conn.ExecContext(rctx, "ROLLBACK"); rbErr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}
	return batchResult{}, err
}

// execRecording executes a query on the driver's connection, to read what each of
// its statements did (database/sql reports only the last), and appends it to res.
func execRecording(ctx context.Context, conn *sql.Conn, query string, args []any, res *batchResult) error {
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		v, err := driver.DefaultParameterConverter.ConvertValue(a)
		if err != nil {
			return fmt.Errorf("store: argument %d: %w", i+1, err)
		}
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return conn.Raw(func(dc any) error {
		ex, ok := dc.(driver.ExecerContext)
		if !ok {
			return errors.New("store: driver cannot execute multi-statement queries")
		}
		r, err := ex.ExecContext(ctx, query, named)
		if err != nil {
			return err
		}
		if mr, ok := r.(mysql.Result); ok {
			res.affected = append(res.affected, mr.AllRowsAffected()...)
			res.ids = append(res.ids, mr.AllLastInsertIds()...)
			return nil
		}
		n, _ := r.RowsAffected()
		id, _ := r.LastInsertId()
		res.affected, res.ids = append(res.affected, n), append(res.ids, id)
		return nil
	})
}

// queryScan sends a query and hands its result sets to scan; an error in a later
// statement surfaces after the result sets before it.
func queryScan(ctx context.Context, conn *sql.Conn, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := scan(rows); err != nil {
		return err
	}
	for rows.NextResultSet() {
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// scanRow scans the current row of rows into the struct dest by its db tags.
func scanRow(rows *sql.Rows, m *reflectx.Mapper, dest any) error {
	return (&sqlx.Rows{Rows: rows, Mapper: m}).StructScan(dest)
}

// nextSet moves rows to the next result set, failing if there is none.
func nextSet(rows *sql.Rows) error {
	if rows.NextResultSet() {
		return nil
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return errors.New("store: a result set is missing")
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
