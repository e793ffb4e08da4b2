package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kgseller/kgseller/shared/marketplace"
)

// License states.
const (
	LicensePending  = "PENDING"  // the document is being made or uploaded
	LicenseUploaded = "UPLOADED" // the marketplace has the document
)

// ErrLicenseQuota is returned when an instance has no license quota left.
var ErrLicenseQuota = errors.New("store: license quota of the instance used up")

// License is the license of one getLicenseAsync event.
type License struct {
	ID                int64
	EventID           string
	FingerprintKey    string // FingerprintKey(DeviceFingerprint)
	DeviceFingerprint string
	InstanceID        string
	EffectiveTime     time.Time
	ExpireTime        *time.Time
	TestFlag          bool
	State             string
	Document          []byte // the signed document, nil until made
	DocumentSHA256    string
	KeyID             string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	UploadedAt        *time.Time
}

// FingerprintKey is the indexed form of a device fingerprint: its hex SHA-256, or
// "" when there is none.
func FingerprintKey(fingerprint string) string {
	if fingerprint == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(fingerprint))
	return hex.EncodeToString(sum[:])
}

// LicenseJobKey is the idempotency key of the job that makes and uploads a license.
func LicenseJobKey(id int64) string { return "license:" + strconv.FormatInt(id, 10) }

type licenseRow struct {
	ID                int64          `db:"id"`
	EventID           string         `db:"event_id"`
	FingerprintKey    string         `db:"fingerprint_key"`
	DeviceFingerprint sql.NullString `db:"device_fingerprint"`
	InstanceID        string         `db:"instance_id"`
	EffectiveTime     time.Time      `db:"effective_time"`
	ExpireTime        sql.NullTime   `db:"expire_time"`
	TestFlag          bool           `db:"test_flag"`
	State             string         `db:"state"`
	Document          sql.NullString `db:"document"`
	DocumentSHA256    sql.NullString `db:"document_sha256"`
	KeyID             sql.NullString `db:"key_id"`
	CreatedAt         time.Time      `db:"created_at"`
	UpdatedAt         time.Time      `db:"updated_at"`
	UploadedAt        sql.NullTime   `db:"uploaded_at"`
}

const licenseCols = "id, event_id, fingerprint_key, device_fingerprint, instance_id, effective_time, expire_time, test_flag, state, document, document_sha256, key_id, created_at, updated_at, uploaded_at"

func (r licenseRow) domain() License {
	l := License{
		ID: r.ID, EventID: r.EventID, FingerprintKey: r.FingerprintKey, DeviceFingerprint: r.DeviceFingerprint.String,
		InstanceID: r.InstanceID, EffectiveTime: r.EffectiveTime, TestFlag: r.TestFlag, State: r.State,
		DocumentSHA256: r.DocumentSHA256.String, KeyID: r.KeyID.String, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.ExpireTime.Valid {
		t := r.ExpireTime.Time
		l.ExpireTime = &t
	}
	if r.UploadedAt.Valid {
		t := r.UploadedAt.Time
		l.UploadedAt = &t
	}
	if r.Document.Valid {
		l.Document = []byte(r.Document.String)
	}
	return l
}

func (s *Store) getLicense(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (License, error) {
	var r licenseRow
	err := sqlx.GetContext(ctx, q, &r, "SELECT "+licenseCols+" FROM licenses WHERE "+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return License{}, ErrNotFound
	}
	if err != nil {
		return License{}, fmt.Errorf("store: reading license: %w", err)
	}
	return r.domain(), nil
}

// License returns one license by id.
func (s *Store) License(ctx context.Context, id int64) (License, error) {
	return s.getLicense(ctx, s.db, "id = ?", id)
}

// LicenseByEvent returns the license of an event and fingerprint key.
func (s *Store) LicenseByEvent(ctx context.Context, eventID, fingerprintKey string) (License, error) {
	return s.getLicense(ctx, s.db, "event_id = ? AND fingerprint_key = ?", eventID, fingerprintKey)
}

// LicenseCreated is the outcome of CreateLicense.
type LicenseCreated struct {
	License License
	New     bool  // false: the event already had a license, returned as stored
	JobID   int64 // the job written with a new license
}

// CreateLicense writes the license of an event (state PENDING) together with the
// job of kind jobKind that makes and uploads it, in one transaction. If the event
// (and fingerprint) already has a license, that one is returned: the unique key
// decides, so concurrent duplicates all get the first license. With quota > 0 the
// instance may hold at most quota licenses; one more returns ErrLicenseQuota and
// writes nothing.
func (s *Store) CreateLicense(ctx context.Context, in License, quota int, jobKind string) (LicenseCreated, error) {
	now := s.now()
	in.FingerprintKey = FingerprintKey(in.DeviceFingerprint)
	in.State, in.CreatedAt, in.UpdatedAt = LicensePending, now, now
	var jobID int64
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		jobID = 0
		var exp any
		if in.ExpireTime != nil {
			exp = in.ExpireTime.UTC()
		}
		res, err := tx.ExecContext(ctx,
			`INSERT INTO licenses (event_id, fingerprint_key, device_fingerprint, instance_id, effective_time, expire_time,
			   test_flag, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.EventID, in.FingerprintKey, nullString(in.DeviceFingerprint), in.InstanceID, in.EffectiveTime.UTC(), exp,
			in.TestFlag, in.State, now, now)
		if err != nil {
			return err
		}
		if in.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: license id: %w", err)
		}
		if quota > 0 {
			if err := countLicense(ctx, tx, in.InstanceID, quota, now); err != nil {
				return err
			}
		}
		payload, _ := json.Marshal(map[string]int64{"licenseId": in.ID})
		jobID, err = insertJob(ctx, tx, NewJob{Key: LicenseJobKey(in.ID), Kind: jobKind, InstanceID: in.InstanceID, Payload: string(payload)}, now)
		return err
	})
	if err == nil {
		return LicenseCreated{License: in, New: true, JobID: jobID}, nil
	}
	if errors.Is(err, ErrLicenseQuota) {
		return LicenseCreated{}, err
	}
	if !IsDuplicate(err) {
		return LicenseCreated{}, fmt.Errorf("store: creating license: %w", err)
	}
	stored, gerr := s.LicenseByEvent(ctx, in.EventID, in.FingerprintKey)
	if gerr != nil {
		return LicenseCreated{}, gerr
	}
	return LicenseCreated{License: stored}, nil
}

// countLicense counts one more license of an instance inside tx; the upsert locks
// the instance's counter until the transaction ends.
func countLicense(ctx context.Context, tx *sqlx.Tx, instanceID string, quota int, now time.Time) error {
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO license_counts (instance_id, issued, updated_at) VALUES (?, 1, ?)
		 ON DUPLICATE KEY UPDATE issued = issued + 1, updated_at = ?`, instanceID, now, now); err != nil {
		return fmt.Errorf("store: counting licenses: %w", err)
	}
	var issued int
	if err := tx.GetContext(ctx, &issued, "SELECT issued FROM license_counts WHERE instance_id = ?", instanceID); err != nil {
		return fmt.Errorf("store: counting licenses: %w", err)
	}
	if issued > quota {
		return ErrLicenseQuota
	}
	return nil
}

// SetLicenseDocument stores the signed document of a license unless one is stored
// already, and returns the license as stored: the first document written is the
// only one, so every later upload sends identical bytes.
func (s *Store) SetLicenseDocument(ctx context.Context, id int64, doc []byte, keyID string) (License, error) {
	sum := sha256.Sum256(doc)
	if _, err := s.db.ExecContext(ctx,
		"UPDATE licenses SET document = ?, document_sha256 = ?, key_id = ?, updated_at = ? WHERE id = ? AND document IS NULL",
		string(doc), hex.EncodeToString(sum[:]), keyID, s.now(), id); err != nil {
		return License{}, fmt.Errorf("store: storing license document: %w", err)
	}
	return s.License(ctx, id)
}

// LicenseUpload is the record of a license's successful upload.
type LicenseUpload struct {
	LicenseID  int64     `db:"license_id"`
	EventID    string    `db:"event_id"`
	FileName   string    `db:"file_name"`
	SHA256     string    `db:"sha256"`
	AnswerCode string    `db:"answer_code"`
	UploadedAt time.Time `db:"uploaded_at"`
}

// RecordLicenseUpload records a successful upload and marks the license UPLOADED,
// inside the transaction that ends its job. A second record of one license changes
// nothing.
func RecordLicenseUpload(up LicenseUpload) TxFunc {
	return func(ctx context.Context, tx *sqlx.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx,
			"INSERT INTO license_uploads (license_id, event_id, file_name, sha256, answer_code, uploaded_at) VALUES (?, ?, ?, ?, ?, ?)",
			up.LicenseID, up.EventID, up.FileName, up.SHA256, marketplace.SafeText(up.AnswerCode, 32), now)
		if IsDuplicate(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: recording upload: %w", err)
		}
		if _, err := tx.ExecContext(ctx,
			"UPDATE licenses SET state = ?, uploaded_at = ?, updated_at = ? WHERE id = ?", LicenseUploaded, now, now, up.LicenseID); err != nil {
			return fmt.Errorf("store: marking license uploaded: %w", err)
		}
		return nil
	}
}

// LicenseUploadOf returns the recorded upload of a license.
func (s *Store) LicenseUploadOf(ctx context.Context, licenseID int64) (LicenseUpload, error) {
	var u LicenseUpload
	err := s.db.GetContext(ctx, &u,
		"SELECT license_id, event_id, file_name, sha256, answer_code, uploaded_at FROM license_uploads WHERE license_id = ?", licenseID)
	if errors.Is(err, sql.ErrNoRows) {
		return LicenseUpload{}, ErrNotFound
	}
	if err != nil {
		return LicenseUpload{}, fmt.Errorf("store: reading upload: %w", err)
	}
	return u, nil
}

// RetryDeadJob makes a DEAD job pending again, due now with its attempts reset, and
// returns its id; revived is false when the job is not dead (or does not exist).
// A marketplace retry uses it to resume a side effect that gave up earlier.
func (s *Store) RetryDeadJob(ctx context.Context, key string) (id int64, revived bool, err error) {
	return s.RerunJob(ctx, key, JobDead)
}

// RerunJob makes a job that is in one of states (DONE, DEAD) pending again, due now
// with its attempts reset, and returns its id; rerun is false when the job is in
// none of them (pending or running already, or missing). Concurrent calls rerun it
// once. A repeated getLicenseAsync uses it to upload a delivered license again.
func (s *Store) RerunJob(ctx context.Context, key string, states ...string) (id int64, rerun bool, err error) {
	if len(states) == 0 {
		return 0, false, nil
	}
	now := s.now()
	args := []any{JobPending, now, now, key}
	for _, st := range states {
		args = append(args, st)
	}
	res, err := s.db.ExecContext(ctx,
		"UPDATE jobs SET state = ?, attempts = 0, next_run_at = ?, done_at = NULL, updated_at = ? WHERE job_key = ? AND state IN (?"+
			strings.Repeat(", ?", len(states)-1)+")", args...)
	if err != nil {
		return 0, false, fmt.Errorf("store: rerunning job: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, false, nil
	}
	j, err := s.JobByKey(ctx, key)
	if err != nil {
		return 0, false, err
	}
	return j.ID, true, nil
}

// License-code statuses.
const (
	CodeNormal   = "NORMAL"
	CodeFrozen   = "FROZEN"
	CodeReleased = "RELEASED"
)

// LicenseCode is a license code (授权码) as the marketplace's calls left it.
type LicenseCode struct {
	Code               string         `db:"license_code"`
	Status             string         `db:"status"`
	ExpireTime         sql.NullTime   `db:"expire_time"`
	ProductID          sql.NullString `db:"product_id"`
	TestFlag           bool           `db:"test_flag"`
	ReleaseOrderID     sql.NullString `db:"release_order_id"`
	ReleaseOrderLineID sql.NullString `db:"release_order_line_id"`
	CreatedAt          time.Time      `db:"created_at"`
	UpdatedAt          time.Time      `db:"updated_at"`
	ReleasedAt         sql.NullTime   `db:"released_at"`
}

// LicenseCodeOf returns a license code.
func (s *Store) LicenseCodeOf(ctx context.Context, code string) (LicenseCode, error) {
	var c LicenseCode
	err := s.db.GetContext(ctx, &c,
		`SELECT license_code, status, expire_time, product_id, test_flag, release_order_id, release_order_line_id,
		   created_at, updated_at, released_at FROM license_codes WHERE license_code = ?`, code)
	if errors.Is(err, sql.ErrNoRows) {
		return LicenseCode{}, ErrNotFound
	}
	if err != nil {
		return LicenseCode{}, fmt.Errorf("store: reading license code: %w", err)
	}
	return c, nil
}

// ensureCode records a code the first time a call names it, with the given status,
// and returns its status, locking the row until tx ends.
func ensureCode(ctx context.Context, tx *sqlx.Tx, code, status string, test bool, now time.Time) (string, error) {
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO license_codes (license_code, status, test_flag, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		 ON DUPLICATE KEY UPDATE license_code = license_code`, code, status, test, now, now); err != nil {
		return "", fmt.Errorf("store: recording license code: %w", err)
	}
	var current string
	if err := tx.GetContext(ctx, &current, "SELECT status FROM license_codes WHERE license_code = ? FOR UPDATE", code); err != nil {
		return "", fmt.Errorf("store: locking license code: %w", err)
	}
	return current, nil
}

// CodeRefresh is a refreshLicenseCode order.
type CodeRefresh struct {
	Code        string
	Scene       string
	OrderID     string
	OrderLineID string
	ProductID   string // optional
	ExpireTime  time.Time
	TestFlag    bool
}

// RefreshLicenseCode sets (never adds to) the expiry of a code for a renewal or
// renewal-unsubscribe order. Each (scene, order line) applies once; a repeat, or
// any order for a released code, changes nothing. applied reports whether the
// expiry was set.
func (s *Store) RefreshLicenseCode(ctx context.Context, r CodeRefresh) (applied bool, err error) {
	now := s.now()
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		applied = false
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO license_code_orders (scene, order_id, order_line_id, license_code, expire_time, product_id, created_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Scene, r.OrderID, r.OrderLineID, r.Code, r.ExpireTime.UTC(), nullString(r.ProductID), now); err != nil {
			if IsDuplicate(err) {
				return errAlreadyApplied
			}
			return fmt.Errorf("store: recording license-code order: %w", err)
		}
		status, err := ensureCode(ctx, tx, r.Code, CodeNormal, r.TestFlag, now)
		if err != nil || status == CodeReleased {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			"UPDATE license_codes SET expire_time = ?, product_id = COALESCE(?, product_id), updated_at = ? WHERE license_code = ?",
			r.ExpireTime.UTC(), nullString(r.ProductID), now, r.Code); err != nil {
			return fmt.Errorf("store: setting license-code expiry: %w", err)
		}
		applied = true
		return nil
	})
	if errors.Is(err, errAlreadyApplied) {
		return false, nil
	}
	return applied, err
}

// SetLicenseCodeStatus freezes (CodeFrozen) or unfreezes (CodeNormal) a code. The
// status it already has, or a released code, is a successful no-op; changed
// reports a transition.
func (s *Store) SetLicenseCodeStatus(ctx context.Context, code, status string, test bool) (changed bool, err error) {
	if status != CodeNormal && status != CodeFrozen {
		return false, fmt.Errorf("store: license-code status %q", status)
	}
	now := s.now()
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		changed = false
		current, err := ensureCode(ctx, tx, code, status, test, now)
		if err != nil || current == status || current == CodeReleased {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE license_codes SET status = ?, updated_at = ? WHERE license_code = ?", status, now, code); err != nil {
			return fmt.Errorf("store: setting license-code status: %w", err)
		}
		changed = true
		return nil
	})
	return changed, err
}

// ReleaseLicenseCode marks a code released (kept, never deleted), with the
// unsubscribe order that released it when there is one. Releasing a released or
// unknown code succeeds; released reports whether this call released it.
func (s *Store) ReleaseLicenseCode(ctx context.Context, code, orderID, orderLineID string, test bool) (released bool, err error) {
	now := s.now()
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		released = false
		current, err := ensureCode(ctx, tx, code, CodeNormal, test, now)
		if err != nil || current == CodeReleased {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE license_codes SET status = ?, release_order_id = ?, release_order_line_id = ?, released_at = ?, updated_at = ?
			 WHERE license_code = ?`, CodeReleased, nullString(orderID), nullString(orderLineID), now, now, code); err != nil {
			return fmt.Errorf("store: releasing license code: %w", err)
		}
		released = true
		return nil
	})
	return released, err
}
