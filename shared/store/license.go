package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
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
func LicenseJobKey(id int64) string { return licenseJobPrefix + strconv.FormatInt(id, 10) }

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

// LicenseLookup is what getLicenseAsync decides from, read in one round trip.
type LicenseLookup struct {
	License *License // the event's license; nil when it has none
	// JobID and JobState are those of the license's job (0 and "" if it has none).
	JobID    int64
	JobState string
	Instance *marketplace.Instance // nil when the instance does not exist
	Details  *OrderDetails         // the instance's order as Query Order answered; nil if not recorded
}

// LookupLicense reads, in one round trip, the license of an event and device
// fingerprint with its job, the instance it is asked for, and the details of that
// instance's order.
func (s *Store) LookupLicense(ctx context.Context, eventID, fingerprint, instanceID string) (LicenseLookup, error) {
	b := s.newBatch()
	b.add("SELECT "+prefixed("l.", licenseCols)+`, COALESCE(j.id, 0) AS job_id, COALESCE(j.state, '') AS job_state
  FROM licenses l LEFT JOIN jobs j ON j.job_key = CONCAT(?, l.id) WHERE l.event_id = ? AND l.fingerprint_key = ?`,
		licenseJobPrefix, eventID, FingerprintKey(fingerprint))
	b.add("SELECT "+instanceCols+" FROM instances WHERE instance_id = ?", instanceID)
	b.add("SELECT "+prefixed("d.", orderDetailsCols)+` FROM instances i
  JOIN order_details d ON d.order_id = i.order_id AND d.order_line_id = i.order_line_id WHERE i.instance_id = ?`, instanceID)
	var out LicenseLookup
	err := s.queryStatements(ctx, b, func(rows *sql.Rows) error {
		out = LicenseLookup{}
		if rows.Next() {
			var r struct {
				licenseRow
				JobID    int64  `db:"job_id"`
				JobState string `db:"job_state"`
			}
			if err := scanRow(rows, s.db.Mapper, &r); err != nil {
				return err
			}
			l := r.licenseRow.domain()
			out.License, out.JobID, out.JobState = &l, r.JobID, r.JobState
		}
		if err := nextSet(rows); err != nil {
			return err
		}
		if rows.Next() {
			var r instanceRow
			if err := scanRow(rows, s.db.Mapper, &r); err != nil {
				return err
			}
			inst, err := r.domain()
			if err != nil {
				return err
			}
			out.Instance = &inst
		}
		if err := nextSet(rows); err != nil {
			return err
		}
		if rows.Next() {
			var d OrderDetails
			if err := scanRow(rows, s.db.Mapper, &d); err != nil {
				return err
			}
			out.Details = &d
		}
		return nil
	})
	if err != nil {
		return LicenseLookup{}, fmt.Errorf("store: looking up license: %w", err)
	}
	return out, nil
}

// LicenseCreated is the outcome of CreateLicense.
type LicenseCreated struct {
	License License
	New     bool  // false: the event already had a license, returned as stored
	JobID   int64 // the job written with a new license
}

// licenseJobPrefix begins the key of a license's job (LicenseJobKey).
const licenseJobPrefix = "license:"

// CreateLicense writes the license of an event (state PENDING) together with the
// job of kind jobKind that makes and uploads it, in one transaction sent as one
// round trip; the job's key and payload name the license by the id its insert
// generated (LAST_INSERT_ID()). If the event (and fingerprint) already has a
// license, that one is returned: the unique key decides, so concurrent duplicates
// all get the first license. With quota > 0 the instance may hold at most quota
// licenses; one more returns ErrLicenseQuota and writes nothing.
func (s *Store) CreateLicense(ctx context.Context, in License, quota int, jobKind string) (LicenseCreated, error) {
	now := s.now()
	in.FingerprintKey = FingerprintKey(in.DeviceFingerprint)
	in.State, in.CreatedAt, in.UpdatedAt = LicensePending, now, now
	var exp any
	if in.ExpireTime != nil {
		exp = in.ExpireTime.UTC()
	}
	const licenseInsert = `INSERT INTO licenses (event_id, fingerprint_key, device_fingerprint, instance_id, effective_time, expire_time,
  test_flag, state, created_at, updated_at) `
	licenseArgs := []any{in.EventID, in.FingerprintKey, nullString(in.DeviceFingerprint), in.InstanceID, in.EffectiveTime.UTC(), exp,
		in.TestFlag, in.State, now, now}
	const jobValues = "CONCAT(?, LAST_INSERT_ID()), ?, ?, CONCAT(?, LAST_INSERT_ID(), ?), ?, 0, ?, ?, ?"
	jobArgs := []any{licenseJobPrefix, jobKind, in.InstanceID, `{"licenseId":`, `}`, JobPending, now, now, now}
	b := s.newBatch()
	first := 0 // the license's statement
	if quota > 0 {
		// The counter's row stays locked to the end: one more license is counted,
		// the license and its job are written only while the count is within the
		// quota, and the count is taken back when it is not.
		under := " FROM license_counts WHERE instance_id = ? AND issued <= ?"
		b.add(`INSERT INTO license_counts (instance_id, issued, updated_at) VALUES (?, 1, ?)
  ON DUPLICATE KEY UPDATE issued = issued + 1, updated_at = ?`, in.InstanceID, now, now)
		b.add(licenseInsert+"SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"+under, append(licenseArgs, in.InstanceID, quota)...)
		b.add(jobInsert+"SELECT "+jobValues+under, append(jobArgs, in.InstanceID, quota)...)
		b.add("UPDATE license_counts SET issued = issued - 1 WHERE instance_id = ? AND issued > ?", in.InstanceID, quota)
		first = 1
	} else {
		b.add(licenseInsert+"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", licenseArgs...)
		b.add(jobInsert+"VALUES ("+jobValues+")", jobArgs...)
	}
	res, err := s.execBatch(ctx, b)
	if err == nil {
		if res.affectedAt(first) == 0 {
			return LicenseCreated{}, ErrLicenseQuota
		}
		in.ID = res.idAt(first)
		return LicenseCreated{License: in, New: true, JobID: res.idAt(first + 1)}, nil
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

// SetLicenseDocument stores the signed document of a license unless one is stored
// already, and returns the license as stored, in one round trip: the first
// document written is the only one, so every later upload sends identical bytes.
func (s *Store) SetLicenseDocument(ctx context.Context, id int64, doc []byte, keyID string) (License, error) {
	sum := sha256.Sum256(doc)
	b := s.newBatch()
	b.add("UPDATE licenses SET document = ?, document_sha256 = ?, key_id = ?, updated_at = ? WHERE id = ? AND document IS NULL",
		string(doc), hex.EncodeToString(sum[:]), keyID, s.now(), id)
	b.add("SELECT "+licenseCols+" FROM licenses WHERE id = ?", id)
	var r licenseRow
	found := false
	err := s.queryStatements(ctx, b, func(rows *sql.Rows) error {
		if !rows.Next() {
			return nil
		}
		found = true
		return scanRow(rows, s.db.Mapper, &r)
	})
	if err != nil {
		return License{}, fmt.Errorf("store: storing license document: %w", err)
	}
	if !found {
		return License{}, ErrNotFound
	}
	return r.domain(), nil
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
// with the end of its job. A second record of one license changes nothing.
func RecordLicenseUpload(up LicenseUpload) Effect {
	return Effect{{table: "license_uploads", insert: true,
		cols:    "license_id, event_id, file_name, sha256, answer_code, uploaded_at",
		vals:    "?, ?, ?, ?, ?, ?",
		valArgs: []any{up.LicenseID, up.EventID, up.FileName, up.SHA256, marketplace.SafeText(up.AnswerCode, 32), nowArg{}},
		tail:    "ON DUPLICATE KEY UPDATE license_id = license_id"}, {table: "licenses",
		set: "t.state = ?, t.uploaded_at = ?, t.updated_at = ?", setArgs: []any{LicenseUploaded, nowArg{}, nowArg{}},
		where: "t.id = ? AND t.state <> ?", whereArgs: []any{up.LicenseID, LicenseUploaded}}}
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
// once.
func (s *Store) RerunJob(ctx context.Context, key string, states ...string) (id int64, rerun bool, err error) {
	j, err := s.JobByKey(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	rerun, err = s.RerunJobID(ctx, j.ID, states...)
	return j.ID, rerun, err
}

// RerunJobID is RerunJob for a job whose id is known, in one statement. A
// repeated getLicenseAsync uses it to upload a delivered license again.
func (s *Store) RerunJobID(ctx context.Context, id int64, states ...string) (bool, error) {
	if len(states) == 0 {
		return false, nil
	}
	now := s.now()
	args := []any{JobPending, now, now, id}
	for _, st := range states {
		args = append(args, st)
	}
	res, err := s.db.ExecContext(ctx,
		"UPDATE jobs SET state = ?, attempts = 0, next_run_at = ?, done_at = NULL, updated_at = ? WHERE id = ? AND state IN (?"+
			strings.Repeat(", ?", len(states)-1)+")", args...)
	if err != nil {
		return false, fmt.Errorf("store: rerunning job: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
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

// addEnsureCode adds the record of a code the first time a call names it, with
// the given status; a known code is left as it is.
func addEnsureCode(b *batch, code, status string, test bool, now time.Time) {
	b.add(`INSERT INTO license_codes (license_code, status, test_flag, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
  ON DUPLICATE KEY UPDATE license_code = license_code`, code, status, test, now, now)
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
// renewal-unsubscribe order, in one transaction sent as one round trip. Each
// (scene, order line) applies once; a repeat, or any order for a released code,
// changes nothing.
func (s *Store) RefreshLicenseCode(ctx context.Context, r CodeRefresh) error {
	now := s.now()
	b := s.newBatch()
	// A repeated order line is a duplicate key, which stops the transaction.
	b.add(`INSERT INTO license_code_orders (scene, order_id, order_line_id, license_code, expire_time, product_id, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Scene, r.OrderID, r.OrderLineID, r.Code, r.ExpireTime.UTC(), nullString(r.ProductID), now)
	addEnsureCode(b, r.Code, CodeNormal, r.TestFlag, now)
	b.add("UPDATE license_codes SET expire_time = ?, product_id = COALESCE(?, product_id), updated_at = ? WHERE license_code = ? AND status <> ?",
		r.ExpireTime.UTC(), nullString(r.ProductID), now, r.Code, CodeReleased)
	if _, err := s.execBatch(ctx, b); err != nil && !IsDuplicate(err) {
		return fmt.Errorf("store: refreshing license code: %w", err)
	}
	return nil
}

// SetLicenseCodeStatus freezes (CodeFrozen) or unfreezes (CodeNormal) a code, in
// one round trip. The status it already has, or a released code, is a successful
// no-op.
func (s *Store) SetLicenseCodeStatus(ctx context.Context, code, status string, test bool) error {
	if status != CodeNormal && status != CodeFrozen {
		return fmt.Errorf("store: license-code status %q", status)
	}
	now := s.now()
	b := s.newBatch()
	addEnsureCode(b, code, status, test, now)
	b.add("UPDATE license_codes SET status = ?, updated_at = ? WHERE license_code = ? AND status NOT IN (?, ?)",
		status, now, code, status, CodeReleased)
	if _, err := s.execBatch(ctx, b); err != nil {
		return fmt.Errorf("store: setting license-code status: %w", err)
	}
	return nil
}

// ReleaseLicenseCode marks a code released (kept, never deleted), with the
// unsubscribe order that released it when there is one, in one round trip.
// Releasing a released or unknown code succeeds.
func (s *Store) ReleaseLicenseCode(ctx context.Context, code, orderID, orderLineID string, test bool) error {
	now := s.now()
	b := s.newBatch()
	addEnsureCode(b, code, CodeNormal, test, now)
	b.add(`UPDATE license_codes SET status = ?, release_order_id = ?, release_order_line_id = ?, released_at = ?, updated_at = ?
  WHERE license_code = ? AND status <> ?`, CodeReleased, nullString(orderID), nullString(orderLineID), now, now, code, CodeReleased)
	if _, err := s.execBatch(ctx, b); err != nil {
		return fmt.Errorf("store: releasing license code: %w", err)
	}
	return nil
}
