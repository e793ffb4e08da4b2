package buildzip

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// EntryName is the one file a custom-runtime zip holds: FunctionGraph runs
// bootstrap from the root of the code package.
const EntryName = "bootstrap"

// ZipTime is the modification time written for the entry, so that the zip bytes
// depend only on the binary.
var ZipTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteZip writes a zip holding binary as an executable named bootstrap, with a
// fixed time, fixed mode (0755, Unix creator) and fixed compression level: the
// same binary always gives the same bytes.
func WriteZip(w io.Writer, binary []byte) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	h := &zip.FileHeader{Name: EntryName, Method: zip.Deflate, Modified: ZipTime}
	h.SetMode(0o755)
	fw, err := zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("buildzip: %w", err)
	}
	if _, err := fw.Write(binary); err != nil {
		return fmt.Errorf("buildzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("buildzip: %w", err)
	}
	return nil
}

// Zip returns the zip bytes of binary.
func Zip(binary []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := WriteZip(&buf, binary); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SHA256 returns the lower-case hex SHA-256 of b.
func SHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ReadBootstrap opens a function zip and returns its bootstrap entry, checking
// that it is the only entry and is executable.
func ReadBootstrap(zipPath string) ([]byte, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("buildzip: %w", err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != EntryName {
		return nil, fmt.Errorf("buildzip: %s must hold exactly one entry named %s", filepath.Base(zipPath), EntryName)
	}
	f := zr.File[0]
	if f.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("buildzip: %s: %s is not executable", filepath.Base(zipPath), EntryName)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("buildzip: %w", err)
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// writeFileAtomic writes data to path through a temporary file in the same folder.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name)
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(name, mode); err != nil {
		return err
	}
	return os.Rename(name, path)
}
