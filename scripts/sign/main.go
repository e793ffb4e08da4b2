// Command sign sends one request signed the way the marketplace signs it, and checks
// the answer's shape and Body-Sign. It is the by-hand counterpart of the Seller
// Console's debug tool.
//
//	go run ./scripts/sign -d '{"activity":"queryInstance","instanceId":"i-1"}'
//	go run ./scripts/sign -curl -d @body.json      # print a curl command instead
//	go run ./scripts/sign -kit -url http://127.0.0.1:8080/produceAPI/v2/tenantSync -d @t.json
//
// The key comes from -key, else KG_ACCESS_KEY, else the local run's default key.
package main

import (
	"context"
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
	"github.com/kgseller/kgseller/shared/tools/localrun"
)

func main() {
	target := flag.String("url", "http://127.0.0.1:8080/saas/produce", "production interface URL")
	key := flag.String("key", "", "access key (default $KG_ACCESS_KEY, else the local run's default)")
	data := flag.String("d", "", "request body, @file to read a file, or - for stdin")
	kit := flag.Bool("kit", false, "sign with Kit x-sign headers instead of query parameters")
	curl := flag.Bool("curl", false, "print a curl command instead of sending")
	flag.Parse()
	if err := run(*target, *key, *data, *kit, *curl); err != nil {
		fmt.Fprintln(os.Stderr, "sign:", err)
		os.Exit(1)
	}
}

func run(target, key, data string, kit, curl bool) error {
	if key == "" {
		key = os.Getenv("KG_ACCESS_KEY")
	}
	if key == "" {
		key = localrun.DefaultAccessKey
	}
	body, err := readBody(data)
	if err != nil {
		return err
	}
	c := &probe.Client{URL: target, Key: kgsign.NewKey([]byte(key), "cli"), Kit: kit}
	s, err := c.Sign(body)
	if err != nil {
		return err
	}
	if curl {
		names := make([]string, 0, len(s.Headers))
		for h := range s.Headers {
			names = append(names, h)
		}
		sort.Strings(names)
		fmt.Printf("curl -sS -i -X POST '%s'", s.URL)
		for _, h := range names {
			fmt.Printf(" -H '%s: %s'", h, s.Headers[h])
		}
		fmt.Printf(" --data-binary '%s'\n", strings.ReplaceAll(string(body), "'", `'\''`))
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := c.Send(ctx, s)
	if err != nil {
		return err
	}
	fmt.Printf("HTTP %d  Content-Type: %s  Body-Sign: %s  (%v)\n", a.Status, a.ContentType, signState(a), a.Elapsed.Round(time.Millisecond))
	fmt.Println(string(a.Body))
	if err := a.ShapeError(); err != nil {
		return fmt.Errorf("answer shape: %w", err)
	}
	return nil
}

func signState(a probe.Answer) string {
	switch {
	case a.Header.Get("Body-Sign") == "":
		return "missing"
	case a.BodySignOK():
		return "valid"
	}
	return "does not verify with this key"
}

func readBody(data string) ([]byte, error) {
	switch {
	case data == "":
		return nil, errors.New("no body: pass -d '{...}', -d @file or -d -")
	case data == "-":
		return io.ReadAll(os.Stdin)
	case strings.HasPrefix(data, "@"):
		return os.ReadFile(data[1:])
	}
	return []byte(data), nil
}
