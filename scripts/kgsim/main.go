// Command kgsim is a marketplace simulator for sellers: point it at a production
// interface (local or deployed) with the access key, and it runs every debug case of
// the product type the way the Seller Console's debug tool and its dial tests do,
// plus concurrent duplicates, replays, stale and forged requests and malformed
// bodies. It prints a pass/fail table and a summary and exits non-zero on any
// failure.
//
//	go run ./scripts/kgsim -url http://127.0.0.1:8080/saas/produce -key local-dev-access-key
//	go run ./scripts/kgsim -type notify -json results.json
//	go run ./scripts/kgsim -type kit -url https://seller.example.com/saas/produce -public-key kit.pub.pem
//	go run ./scripts/kgsim -type address -url https://seller.example.com/saas/produce -other https://seller.example.com/license/produce
//
// The logic is in shared/tools/kgsim; this file parses flags and prints.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/tools/kgsim"
	"github.com/kgseller/kgseller/shared/tools/localstate"
)

// Exit codes.
const (
	exitPass  = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("kgsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	typ := fs.String("type", "saas", "product type: "+strings.Join(kgsim.Types(), ", "))
	target := fs.String("url", "", "production interface URL; for kit the production address (default: the running local run's, else http://127.0.0.1:8080 plus the type's route)")
	key := fs.String("key", "", "access key bound to the type (default $KG_ACCESS_KEY_<TYPE>, else $KG_ACCESS_KEY, else the local run's key)")
	keyB64 := fs.Bool("key-base64", false, "the key is Base64 of the real key, as the EU Seller Console shows it")
	rounds := fs.Int("rounds", kgsim.DefaultRounds, "repeat the cases this many times, each in a new random order")
	seed := fs.Uint64("seed", 0, "seed of the random order (0: draw one; the report prints it)")
	dup := fs.Int("dup", kgsim.DefaultDuplicates, "concurrent copies in each duplicate burst")
	timeout := fs.Duration("timeout", kgsim.DefaultTimeout, "limit of every call; a slower answer fails")
	readyWait := fs.Duration("ready-wait", kgsim.DefaultReadyWait, "how long setup polls while the server answers 000004")
	jsonOut := fs.String("json", "", "write machine-readable results to this file (- for stdout; the table then goes to stderr)")
	verbose := fs.Bool("v", false, "print every call in run order instead of one row per case, then each request body and a sign command that sends it again")
	list := fs.Bool("list", false, "list the cases of the type and exit")
	kitHashed := fs.Bool("kit-hashed", false, "kit: sign x-sign with the hashed-payload formula (server KG_KIT_HASHED_PAYLOAD=true)")
	pubKey := fs.String("public-key", "", "kit: PEM RSA public key uploaded for the Kit app (default: the local run's; applicationSync is skipped without one)")
	kitUnversioned := fs.Bool("kit-unversioned", false, "kit: call the unversioned sub-paths /produceAPI/<name> instead of /produceAPI/v2/<name>")
	kitKey := fs.String("kit-key", "", "address: the Kit key (default $KG_ACCESS_KEY_KIT, else $KG_ACCESS_KEY, else the local run's key)")
	notifyKey := fs.String("notify-key", "", "address: the generic (orderNotify) key (default $KG_ACCESS_KEY_NOTIFY, else $KG_ACCESS_KEY, else the local run's key)")
	others := fs.String("other", "", "address: the seller's other production addresses (comma-separated URLs), where captured calls are replayed")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: kgsim [flags]\n\nRuns the debug cases of a product type against a production interface.\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nExit status: 0 all passed, 1 a case failed, 2 bad usage.\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kgsim: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return exitUsage
	}
	o := kgsim.Options{
		Type: *typ, Rounds: *rounds, Seed: *seed, Duplicates: *dup, Timeout: *timeout, ReadyWait: *readyWait,
		KitHashedPayload: *kitHashed, KitUnversioned: *kitUnversioned,
	}
	for _, u := range strings.Split(*others, ",") {
		if u = strings.TrimSpace(u); u != "" {
			o.OtherAddresses = append(o.OtherAddresses, u)
		}
	}
	t := kgsim.FindTarget(kgsim.TargetQuery{Prog: "kgsim", Type: *typ, URL: *target, Key: *key, KeyVars: kgsim.KeyVars(*typ)}, getenv)
	// The other types' keys of the address type fall back like the main key; a
	// local run has one key for every type.
	fallback := localstate.DefaultAccessKey
	if t.KeyFrom == kgsim.FromStateFile {
		fallback = t.Key
	}
	for _, k := range []struct {
		flag, env string
		dst       *kgsign.Key
	}{{*kitKey, "KG_ACCESS_KEY_KIT", &o.KitKey}, {*notifyKey, "KG_ACCESS_KEY_NOTIFY", &o.NotifyKey}} {
		ks, err := kgsign.NewKeySet(firstOf(k.flag, getenv(k.env), getenv("KG_ACCESS_KEY"), fallback), "", *keyB64)
		if err != nil {
			fmt.Fprintf(stderr, "kgsim: %s key: %v\n", strings.TrimPrefix(k.env, "KG_ACCESS_KEY_"), err)
			return exitUsage
		}
		*k.dst = ks.Primary()
	}
	pubPath := *pubKey
	if pubPath == "" && *target == "" {
		pubPath = t.KitPublicKey
	}
	if pubPath != "" {
		pem, err := os.ReadFile(pubPath)
		if err == nil {
			o.KitPublicKey, err = kgsim.ParsePublicKey(pem)
		}
		if err != nil {
			fmt.Fprintf(stderr, "kgsim: -public-key: %v\n", err)
			return exitUsage
		}
	}
	p, err := kgsim.ProductFor(*typ, o)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	if *list {
		printCases(stdout, p)
		return exitPass
	}
	o.URL, o.KeyFrom, o.ExplicitURL = t.URL, t.KeyFrom, *target != ""
	ks, err := kgsign.NewKeySet(t.Key, "", *keyB64)
	if err != nil {
		fmt.Fprintf(stderr, "kgsim: access key: %v\n", err)
		return exitUsage
	}
	o.Key = ks.Primary()
	fmt.Fprintln(stderr, t.Note)

	table := stdout
	if *jsonOut == "-" {
		table = stderr
	}
	fmt.Fprintf(table, "kgsim: %s suite against %s (%d rounds, %d duplicates, timeout %v)\n\n", p.Name, o.URL, *rounds, *dup, *timeout)
	rep, err := kgsim.RunProduct(ctx, p, o)
	if err != nil {
		fmt.Fprintf(stderr, "kgsim: %v\n", err)
		return exitUsage
	}
	if err := rep.WriteTable(table, *verbose); err != nil {
		fmt.Fprintf(stderr, "kgsim: %v\n", err)
	}
	if *jsonOut != "" {
		if err := writeJSON(*jsonOut, stdout, rep); err != nil {
			fmt.Fprintf(stderr, "kgsim: -json: %v\n", err)
			return exitFail
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "kgsim: interrupted")
		return exitFail
	}
	if !rep.OK() {
		return exitFail
	}
	return exitPass
}

func writeJSON(path string, stdout io.Writer, rep *kgsim.Report) error {
	if path == "-" {
		return rep.WriteJSON(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func printCases(w io.Writer, p *kgsim.Product) {
	fmt.Fprintf(w, "%s: %s\n", p.Name, p.Summary)
	section := func(title string, cs []kgsim.Case) {
		if len(cs) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, c := range cs {
			name := c.Name
			if c.Path != "" {
				name = c.Path + "  " + name
			}
			if c.Burst {
				name += " (concurrent copies)"
			}
			want := strings.Join(c.Want, "|")
			if len(c.ReplayTo) > 0 {
				want += fmt.Sprintf(", then 000001 replayed on %d other route(s)", len(c.ReplayTo))
			}
			fmt.Fprintf(w, "  %-70s want %s\n", name, want)
		}
	}
	section("setup (once, in order)", p.Setup)
	section("cases (every round, random order)", p.Cases)
	if p.Duplicate.Body != nil {
		section("duplicate burst (every round)", []kgsim.Case{p.Duplicate})
	}
	if p.Probe.Body != nil {
		fmt.Fprintf(w, "\nprobes around %q: exact replay => 000001, timestamp ±10 min => 000001, wrong key / changed body / no signature => 000001, lower-case hex signature accepted\n", p.Probe.Name)
	}
	if len(p.Malformed) > 0 {
		fmt.Fprintf(w, "\nmalformed bodies (signed correctly) => 000002:\n")
		for _, m := range p.Malformed {
			fmt.Fprintf(w, "  %s\n", m.Name)
		}
	}
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
