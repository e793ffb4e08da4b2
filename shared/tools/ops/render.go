package ops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kgseller/kgseller/shared/marketplace"
)

// output writes either aligned tables or JSON.
type output struct {
	w    io.Writer
	json bool
}

// encode writes v as indented JSON. encoding/json escapes C0 controls but writes
// DEL, C1 controls and bidi formatting characters as they are; those are escaped
// too, so a terminal showing the JSON shows the data, never acts on it.
func (o *output) encode(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	var out strings.Builder
	for _, r := range buf.String() {
		if r != '\n' && marketplace.Unsafe(r) {
			fmt.Fprintf(&out, "\\u%04x", r)
			continue
		}
		out.WriteRune(r)
	}
	_, err := io.WriteString(o.w, out.String())
	return err
}

type table struct {
	tw *tabwriter.Writer
}

func (o *output) table(headers ...string) *table {
	t := &table{tw: tabwriter.NewWriter(o.w, 2, 4, 2, ' ', 0)}
	t.row(headers...)
	return t
}

// row writes one row. Every cell is made inert (marketplace.SafeText): values
// come from the database, some from outside, and must neither move the cursor nor
// reorder text on the operator's terminal; tabs and line breaks become spaces,
// which also keeps the alignment.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		c = marketplace.SafeText(c, 0)
		if c == "" {
			c = "-"
		}
		cells[i] = c
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// ts formats a time for tables: UTC, to the second.
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func tsp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ts(*t)
}

func flag01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (o *output) instances(list []InstanceView) error {
	t := o.table("INSTANCE", "ORDER", "LINE", "STATE", "STATUS", "TEST", "EXPIRES", "CREATED", "UPDATED", "FAILURE")
	for _, i := range list {
		failure := ""
		if i.FailCode != "" {
			failure = i.FailCode + " " + marketplace.Clip(i.FailReason, 60)
		}
		t.row(i.InstanceID, i.OrderID, i.OrderLineID, i.State, i.Status, flag01(i.Test), tsp(i.ExpireTime), ts(i.CreatedAt), ts(i.UpdatedAt), failure)
	}
	if err := t.flush(); err != nil {
		return err
	}
	return o.count(len(list), "instance")
}

func (o *output) orders(list []OrderView) error {
	t := o.table("KIND", "ORDER", "LINE", "INSTANCE", "APPLIED", "DETAIL")
	for _, r := range list {
		t.row(r.Kind, r.OrderID, r.OrderLineID, r.InstanceID, ts(r.CreatedAt), marketplace.Clip(string(r.Detail), 100))
	}
	if err := t.flush(); err != nil {
		return err
	}
	return o.count(len(list), "applied order")
}

func (o *output) jobs(list []JobView) error {
	t := o.table("ID", "KIND", "INSTANCE", "STATE", "ATTEMPTS", "NEXT RUN", "CREATED", "UPDATED", "LAST ERROR")
	for _, j := range list {
		next := ts(j.NextRunAt)
		if j.State != "PENDING" {
			next = ""
		}
		t.row(strconv.FormatInt(j.ID, 10), j.Kind, j.InstanceID, j.State, strconv.Itoa(j.Attempts), next, ts(j.CreatedAt), ts(j.UpdatedAt), marketplace.Clip(j.LastError, 100))
	}
	if err := t.flush(); err != nil {
		return err
	}
	return o.count(len(list), "job")
}

func (o *output) count(n int, what string) error {
	s := "s"
	if n == 1 {
		s = ""
	}
	_, err := fmt.Fprintf(o.w, "(%d %s%s)\n", n, what, s)
	return err
}

func (o *output) history(h History) error {
	fmt.Fprintf(o.w, "History of %s\n", marketplace.SafeText(h.Query, 0))
	for _, ih := range h.Instances {
		i := ih.Instance
		fmt.Fprintf(o.w, "\nInstance %s (%s)\n", marketplace.SafeText(i.InstanceID, 0), ih.Relation)
		kv := o.table("  FIELD", "VALUE")
		kv.row("  created by", i.OrderID+" / "+i.OrderLineID+" (businessId "+i.BusinessID+")")
		kv.row("  state / status", i.State+" / "+i.Status)
		if i.FailCode != "" {
			kv.row("  failure", i.FailCode+" "+i.FailReason)
		}
		kv.row("  test (debug) instance", flag01(i.Test))
		kv.row("  product", i.ProductID)
		kv.row("  expires", tsp(i.ExpireTime))
		kv.row("  front-end URL", i.FrontEndURL)
		kv.row("  created / updated", ts(i.CreatedAt)+" / "+ts(i.UpdatedAt))
		if i.ReleasedAt != nil {
			kv.row("  released", tsp(i.ReleasedAt))
		}
		if err := kv.flush(); err != nil {
			return err
		}
		fmt.Fprintf(o.w, "\n  Applied orders (%d)\n", len(ih.Orders))
		if len(ih.Orders) > 0 {
			t := o.table("  APPLIED", "KIND", "ORDER", "LINE", "DETAIL")
			for _, r := range ih.Orders {
				t.row("  "+ts(r.CreatedAt), r.Kind, r.OrderID, r.OrderLineID, marketplace.Clip(string(r.Detail), 100))
			}
			if err := t.flush(); err != nil {
				return err
			}
		}
		fmt.Fprintf(o.w, "\n  Jobs (%d)\n", len(ih.Jobs))
		if len(ih.Jobs) > 0 {
			t := o.table("  ID", "KIND", "STATE", "ATTEMPTS", "CREATED", "FINISHED", "LAST ERROR")
			for _, j := range ih.Jobs {
				t.row("  "+strconv.FormatInt(j.ID, 10), j.Kind, j.State, strconv.Itoa(j.Attempts), ts(j.CreatedAt), tsp(j.DoneAt), marketplace.Clip(j.LastError, 100))
			}
			if err := t.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *output) retry(res []RetryOutcome, applied bool) error {
	t := o.table("JOB", "KIND", "INSTANCE", "STATE", "ATTEMPTS", "RESULT")
	for _, r := range res {
		var result string
		switch {
		case r.Error != "":
			result = "not requeued: " + r.Error
		case r.Applied:
			result = fmt.Sprintf("requeued: PENDING, due now, attempts %d -> %d", r.Attempts, r.AttemptsAfter)
		default:
			result = fmt.Sprintf("would requeue: DEAD -> PENDING, due now, attempts %d -> %d", r.Attempts, r.AttemptsAfter)
		}
		t.row(strconv.FormatInt(r.JobID, 10), r.Kind, r.InstanceID, r.State, strconv.Itoa(r.Attempts), result)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if !applied {
		_, err := fmt.Fprintln(o.w, "dry run: nothing was written; run again with -yes to requeue")
		return err
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
