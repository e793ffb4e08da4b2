package fuzzrun

import (
	"context"
	"regexp"
	"slices"
	"testing"
)

func TestParseList(t *testing.T) {
	out := "FuzzA\nFuzzB\nok  \texample.com/m/a\t0.005s\nok  \texample.com/m/b\t0.004s\nTestNotFuzz\nFuzzC\nok  \texample.com/m/c\t(cached)\n"
	got := ParseList(out)
	want := []Target{{"example.com/m/a", "FuzzA"}, {"example.com/m/a", "FuzzB"}, {"example.com/m/c", "FuzzC"}}
	if !slices.Equal(got, want) {
		t.Fatalf("ParseList = %v, want %v", got, want)
	}
}

// TestListFindsTheProjectTargets lists the signature package's targets with the
// real go command.
func TestListFindsTheProjectTargets(t *testing.T) {
	got, err := List(context.Background(), Options{Dir: "../../..", Packages: []string{"./shared/kgsign", "./shared/reqbody"}, Match: regexp.MustCompile("Verify|Parse")})
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{
		{"github.com/kgseller/kgseller/shared/kgsign", "FuzzVerifyV2"},
		{"github.com/kgseller/kgseller/shared/kgsign", "FuzzVerifyKit"},
		{"github.com/kgseller/kgseller/shared/reqbody", "FuzzParse"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
}
