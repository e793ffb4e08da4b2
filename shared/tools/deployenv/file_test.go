package deployenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeployFile: a deploy.env is read back as written; the environment wins
// over it; $NAME reads the environment at run time; a secret's value is never
// accepted in it, only a reference to it.
func TestDeployFile(t *testing.T) {
	secret, err := SecretNames(projectRaw(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"DB_DSN", "KG_ACCESS_KEY_BASIC", "KG_KIT_RSA_PRIVATE_KEY", "HUAWEICLOUD_SDK_SK", "APIG_SIGNATURE_SECRET"} {
		if !secret(n) {
			t.Errorf("%s is not a secret", n)
		}
	}
	if secret("APIG_GROUP_ID") || secret("HUAWEICLOUD_REGION") {
		t.Error("a plain setting counts as a secret")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, DefaultFile)
	if f, err := ReadFile(path, secret); err != nil || len(f.Values) != 0 {
		t.Fatalf("a missing file: %v %v", f, err)
	}
	f := &File{Path: path, Values: map[string]string{}}
	f.Set("KG_DEPLOY_PROFILE", "saas")
	f.Set("APIG_GROUP_ID", "group-in-file")
	f.Set("DB_DSN", "csms:kgseller-db")
	f.Set("KG_ACCESS_KEY_BASIC", "$MY_BASIC_KEY")
	f.Set("HUAWEICLOUD_SDK_AK", "${DEPLOY_AK}")
	f.Set("EMPTY", "")
	if err := f.Write("written by a test\nsecond line"); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", st.Mode(), err)
	}
	raw, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(raw), "# written by a test\n# second line\nKG_DEPLOY_PROFILE=saas\n") || strings.Contains(string(raw), "EMPTY") {
		t.Errorf("file:\n%s", raw)
	}
	back, err := ReadFile(path, secret)
	if err != nil {
		t.Fatal(err)
	}
	environ := map[string]string{"MY_BASIC_KEY": "the-basic-key", "DEPLOY_AK": "AK123", "APIG_GROUP_ID": "group-in-env"}
	get := back.Getenv(func(k string) string { return environ[k] })
	for name, want := range map[string]string{
		"KG_DEPLOY_PROFILE": "saas", "APIG_GROUP_ID": "group-in-env", "DB_DSN": "csms:kgseller-db",
		"KG_ACCESS_KEY_BASIC": "the-basic-key", "HUAWEICLOUD_SDK_AK": "AK123", "NOT_SET": "",
	} {
		if got := get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	for content, why := range map[string]string{
		"DB_DSN=app:pw@tcp(h)/d\n":         "DB_DSN is a secret",
		"KG_ACCESS_KEY_BASIC='literal'\n":  "KG_ACCESS_KEY_BASIC is a secret",
		"HUAWEICLOUD_SDK_SK=csms:deploy\n": "cannot be a csms: reference",
		"DB_DSN=csms:bad name\n":           "csms: reference",
		"just a line\n":                    "not NAME=value",
		"# fine\n\n1BAD=x\n":               ":3: not NAME=value",
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ReadFile(path, secret)
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v, want %q", content, err, why)
		}
		if err != nil && (strings.Contains(err.Error(), "pw@tcp") || strings.Contains(err.Error(), "literal")) {
			t.Errorf("the error quotes the value: %v", err)
		}
	}
}
