// Command licensecode calls the KooGallery license-code (授权码 2.0) open APIs the
// way the seller's software must: activate a code, query it on the buyer's first
// use each day, and report software usage daily. It prints the marketplace's answer
// as JSON and exits 0 on success, 1 when the marketplace refuses (printing the
// error code), 2 on bad usage.
//
//	licensecode activate PLXXXXXX [-effect 20260102153555]
//	licensecode activate -v2 PL0001 PL0002 …        (at most 100)
//	licensecode query PLXXXXXX
//	licensecode usage -license PLXXXXXX -id device-1 -id device-2
//	licensecode usage -license PLXXXXXX -active 12
//
// Credentials come from HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (never printed);
// KG_MKT_REGION (cn, intl, eu) or KG_MKT_ENDPOINT select the host.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/tools/licensecode"
)

const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: licensecode <command> [flags] [codes]

commands:
  activate CODE [-effect yyyyMMddHHmmss]     activate one code (v1)
  activate -v2 CODE... [-effect …]           activate up to 100 codes (v2)
  query CODE                                 the code's state (the daily "heartbeat")
  usage -license CODE (-id ID... | -active N) report today's software usage

environment: HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, KG_MKT_REGION (cn|intl|eu) or KG_MKT_ENDPOINT
exit status: 0 success, 1 refused by the marketplace, 2 bad usage
`)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("licensecode "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 15*time.Second, "limit of the call")
	var effect *string
	var v2 *bool
	var ids multi
	var license *string
	var active *int
	switch cmd {
	case "activate":
		effect = fs.String("effect", "", "real effect time, yyyyMMddHHmmss UTC (default: not sent)")
		v2 = fs.Bool("v2", false, "batch activation (v2), up to 100 codes")
	case "query", "heartbeat":
	case "usage":
		license = fs.String("license", "", "the license code")
		fs.Var(&ids, "id", "a client identity used today (repeatable)")
		active = fs.Int("active", -1, "today's number of active clients")
	default:
		usage(stderr)
		return exitUsage
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitUsage
	}
	c, err := licensecode.New(openapi.Options{
		Region: getenv("KG_MKT_REGION"), Endpoint: getenv("KG_MKT_ENDPOINT"),
		AK: getenv("HUAWEICLOUD_SDK_AK"), SK: getenv("HUAWEICLOUD_SDK_SK"), Timeout: *timeout,
	})
	if err != nil {
		fmt.Fprintln(stderr, "licensecode:", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var out any
	switch cmd {
	case "activate":
		var t time.Time
		if *effect != "" {
			if t, err = time.ParseInLocation(licensecode.TimeLayout, *effect, time.UTC); err != nil {
				fmt.Fprintln(stderr, "licensecode: -effect must be yyyyMMddHHmmss")
				return exitUsage
			}
		}
		switch {
		case *v2 && fs.NArg() > 0:
			out, err = c.ActivateBatch(ctx, fs.Args(), t)
		case !*v2 && fs.NArg() == 1:
			out, err = c.Activate(ctx, fs.Arg(0), t)
		default:
			fmt.Fprintln(stderr, "licensecode: activate takes one code, or -v2 and up to 100 codes")
			return exitUsage
		}
	case "query", "heartbeat":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "licensecode: query takes one code")
			return exitUsage
		}
		out, err = c.Query(ctx, fs.Arg(0))
	case "usage":
		u := licensecode.Usage{License: *license}
		for _, id := range ids {
			u.Items = append(u.Items, licensecode.UsageItem{ID: id})
		}
		if *active >= 0 {
			n := *active
			u.Items = append(u.Items, licensecode.UsageItem{ActiveNum: &n})
		}
		if *license == "" || len(u.Items) == 0 || fs.NArg() > 0 {
			fmt.Fprintln(stderr, "licensecode: usage needs -license and -id or -active")
			return exitUsage
		}
		out, err = c.ReportUsage(ctx, []licensecode.Usage{u})
	}
	if err != nil {
		var e *licensecode.Error
		if errors.As(err, &e) {
			fmt.Fprintf(stderr, "licensecode: refused: error_code %s (HTTP %d): %s\n", e.Code, e.HTTPStatus, e.Message)
			return exitFail
		}
		fmt.Fprintln(stderr, "licensecode:", err)
		if licensecode.Temporary(err) {
			return exitFail
		}
		return exitUsage
	}
	if info, ok := out.(licensecode.Info); ok {
		out = map[string]any{"license_code": info.LicenseCode, "status": info.Status, "activate_time": info.ActivateTime,
			"expire_time": info.ExpireTime, "raw": info.Raw}
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Fprintf(stdout, "%s\n", b)
	return exitOK
}
