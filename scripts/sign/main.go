// Command sign sends one request signed the way the marketplace signs it, and checks
// the answer's shape and Body-Sign. It is the by-hand counterpart of the Seller
// Console's debug tool: name an activity and it sends a realistic body (the one
// scripts/kgsim sends) to the running local run, with no flag typed.
//
//	go run ./scripts/sign -list                                  # the activities
//	go run ./scripts/sign newInstance                            # a mock order the fake market knows
//	go run ./scripts/sign refreshInstance -instance <id> -set scene=RENEWAL_CHANGE
//	go run ./scripts/sign tenantSync -print                      # the body, not sent
//	go run ./scripts/sign -d '{"activity":"queryInstance","instanceId":"i-1"}'
//	go run ./scripts/sign queryInstance -instance <id> -curl     # a curl command instead
//
// The target is -url, else the local run's state file, else http://127.0.0.1:8080;
// the key is -key, else KG_ACCESS_KEY_<TYPE> or KG_ACCESS_KEY, else the state
// file's, else the local run's default key. The logic is in shared/tools/kgsim.
package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/tools/kgsim"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// setFlags collects repeated -set key=value.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, " ") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "", "production address (an activity's Kit sub-path is appended), or with -d the interface URL (default: the local run's)")
	key := fs.String("key", "", "access key (default $KG_ACCESS_KEY_<TYPE>, else $KG_ACCESS_KEY, else the local run's)")
	data := fs.String("d", "", "raw request body, @file to read a file, or - for stdin")
	kit := fs.Bool("kit", false, "with -d: sign with Kit x-sign headers instead of query parameters")
	curl := fs.Bool("curl", false, "print a curl command instead of sending")
	instance := fs.String("instance", "", "instanceId of the activity's body")
	order := fs.String("order", "", "orderId of the activity's body (orderLineId follows: <order>-000001)")
	var sets setFlags
	fs.Var(&sets, "set", "set a top-level field of the body, key=value (repeatable)")
	pubKey := fs.String("public-key", "", "applicationSync: PEM public key of the Kit app (default: the local run's)")
	list := fs.Bool("list", false, "list the activities and exit")
	printOnly := fs.Bool("print", false, "print the body instead of sending it")
	fs.BoolVar(printOnly, "n", false, "short for -print")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: sign [activity] [flags]\n\nSends one signed request, as the marketplace does, and checks the answer.\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nActivities: sign -list. Exit status: 0 a well-formed answer, 1 a failure, 2 bad usage.\n")
	}
	var activity string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		activity, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 && activity == "" {
		activity = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return exitUsage
		}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sign: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sign: "+format+"\n", a...)
		return exitUsage
	}
	if *list {
		printActivities(stdout)
		return exitOK
	}

	var act kgsim.Activity
	typ := "saas"
	if activity != "" {
		var ok bool
		if act, ok = kgsim.LookupActivity(activity); !ok {
			return usage("unknown activity %q (sign -list lists them)", activity)
		}
		typ = act.Type
	} else if *kit {
		typ = "kit"
	}
	if activity == "" && *data == "" {
		return usage("name an activity (sign -list) or pass a body with -d")
	}
	if *data != "" && (*instance != "" || *order != "" || len(sets) > 0) {
		return usage("-d sends the body as given: drop -instance, -order and -set")
	}
	if activity == "" && *kit && *target == "" {
		return usage("with -kit -d, name the Kit interface (sign tenantSync -d …) or pass -url <address>/produceAPI/v2/<name>")
	}

	t := kgsim.FindTarget(kgsim.TargetQuery{Prog: "sign", Type: typ, URL: *target, Key: *key, KeyVars: kgsim.KeyVars(typ)}, getenv)
	var body []byte
	var err error
	if *data != "" {
		body, err = readBody(*data, stdin)
	} else {
		o := kgsim.BodyOptions{Instance: *instance, Order: *order, Set: sets}
		if act.Name == "applicationSync" {
			o.KitPublicKey, err = publicKey(*pubKey, t.KitPublicKey)
			if err == nil && o.KitPublicKey == nil && *printOnly {
				o.SecretPlaceholder = kgsim.SecretPlaceholder
			}
		}
		if err == nil {
			body, err = act.Body(o)
		}
	}
	if err != nil {
		if errors.Is(err, kgsim.ErrNeedsInstance) {
			return usage("%v", err)
		}
		fmt.Fprintln(stderr, "sign:", err)
		return exitFail
	}
	if *printOnly {
		fmt.Fprintln(stdout, string(body))
		return exitOK
	}

	fmt.Fprintln(stderr, t.Note)
	c := &probe.Client{URL: t.URL + act.Path, Key: kgsign.NewKey([]byte(t.Key), "cli"), Kit: *kit || act.Kit}
	s, err := c.Sign(body)
	if err != nil {
		fmt.Fprintln(stderr, "sign:", err)
		return exitFail
	}
	if *curl {
		printCurl(stdout, s)
		return exitOK
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	a, err := c.Send(ctx, s)
	if err != nil {
		if kgsim.Refused(err) {
			fmt.Fprintln(stderr, "sign:", kgsim.NothingListens(c.URL))
		} else {
			fmt.Fprintln(stderr, "sign:", err)
		}
		return exitFail
	}
	fmt.Fprintf(stdout, "HTTP %d  Content-Type: %s  Body-Sign: %s  (%v)\n", a.Status, a.ContentType, signState(a, t.KeyFrom), a.Elapsed.Round(time.Millisecond))
	fmt.Fprintln(stdout, string(a.Body))
	if p := explain(a, c.URL, t.KeyFrom); p != "" {
		fmt.Fprintln(stderr, "sign:", p)
		return exitFail
	}
	return exitOK
}

// explain names what is wrong with an answer, the likeliest cause first.
func explain(a probe.Answer, url, keyFrom string) string {
	switch {
	case a.Status == 404:
		return kgsim.NotFound(url, false)
	case a.Code() == "000001":
		return kgsim.AuthFailed(keyFrom, false)
	}
	var ps []string
	for _, p := range a.Problems() {
		if p == probe.BodySignMismatch {
			p = kgsim.BodySignOtherKey(keyFrom)
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		return ""
	}
	return "answer shape: " + strings.Join(ps, "; ")
}

func signState(a probe.Answer, keyFrom string) string {
	switch {
	case a.Header.Get("Body-Sign") == "":
		return "missing"
	case a.BodySignOK():
		return "valid"
	}
	return "does not verify with the key from " + keyFrom
}

// publicKey reads the Kit app's public key from the flag's file, else the local
// run's; nil when neither names one.
func publicKey(flagPath, statePath string) (*rsa.PublicKey, error) {
	path := flagPath
	if path == "" {
		path = statePath
	}
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("Kit public key: %w", err)
	}
	return kgsim.ParsePublicKey(pem)
}

func printActivities(w io.Writer) {
	fmt.Fprintf(w, "%-24s %-8s %-32s %s\n", "ACTIVITY", "TYPE", "ADDRESS", "NEEDS")
	for _, a := range kgsim.Activities() {
		needs := "-"
		if a.NeedsInstance {
			needs = "-instance"
		}
		addr := kgsim.DefaultAddress(a.Type)
		if a.Kit {
			addr = "{address}" + a.Path
		}
		fmt.Fprintf(w, "%-24s %-8s %-32s %s\n", a.Name, a.Type, addr, needs)
	}
}

func printCurl(w io.Writer, s probe.Signed) {
	names := make([]string, 0, len(s.Headers))
	for h := range s.Headers {
		names = append(names, h)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "curl -sS -i -X POST '%s'", s.URL)
	for _, h := range names {
		fmt.Fprintf(w, " -H '%s: %s'", h, s.Headers[h])
	}
	fmt.Fprintf(w, " --data-binary '%s'\n", strings.ReplaceAll(string(s.Body), "'", `'\''`))
}

func readBody(data string, stdin io.Reader) ([]byte, error) {
	switch {
	case data == "-":
		return io.ReadAll(stdin)
	case strings.HasPrefix(data, "@"):
		return os.ReadFile(data[1:])
	}
	return []byte(data), nil
}
