package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

// TestKitBatchAcrossPackets: with the DSN's packet limit lowered to 64 KiB, a
// batch larger than a packet is split into several round trips that the driver
// and the server accept (escaped characters counted), written as one
// transaction: a failure in its last packet leaves nothing, and the connection
// serves the next call.
func TestKitBatchAcrossPackets(t *testing.T) {
	const packet = 64 << 10
	cfg, err := mysql.ParseDSN(dbtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxAllowedPacket = packet
	c := &dbtest.Counter{}
	s, err := store.Open(cfg.FormatDSN(), store.Options{MaxOpen: 1, MaxIdle: 1, Wrap: c.Wrap})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	// Names made of characters the driver escapes: the SQL is twice their length.
	orgs := make([]store.KitOrg, 1200)
	valueBytes := 0
	for i := range orgs {
		name := fmt.Sprintf("%04d", i) + strings.Repeat(`'\"`, 40)
		orgs[i] = store.KitOrg{InstanceID: "i", TenantID: "t", OrgCode: fmt.Sprintf("d%04d", i), OrgName: name, ParentCode: "p", SyncTime: "s"}
		valueBytes += len("i") + len("t") + len(orgs[i].OrgCode) + 2*len(name) + len("p") + len("s")
	}
	before := c.RoundTrips()
	if err := s.UpsertKitOrgs(ctx, orgs); err != nil {
		t.Fatalf("a batch over several packets: %v (%s)", err, dbtest.Engine())
	}
	trips := c.RoundTrips() - before
	// At least the packets the values alone fill, and not many more.
	least := int64(valueBytes/packet) + 1
	if trips < least || trips > least+least/2+1 {
		t.Errorf("%d round trips for %d bytes of values in %d-byte packets, want %d to %d", trips, valueBytes, packet, least, least+least/2+1)
	}
	if n := kitCount(t, s, "kit_orgs", ""); n != len(orgs) {
		t.Fatalf("%d departments stored, want %d", n, len(orgs))
	}
	if n := kitCount(t, s, "kit_orgs", "org_name = ?", orgs[7].OrgName); n != 1 {
		t.Fatal("escaped name not stored as sent")
	}

	// The same list for another tenant, its last department too long for its column.
	for i := range orgs {
		orgs[i].TenantID = "t2"
	}
	orgs[len(orgs)-1].OrgName = strings.Repeat("x", 129)
	before = c.RoundTrips()
	if err := s.UpsertKitOrgs(ctx, orgs); err == nil {
		t.Fatal("a department name over 128 characters was stored")
	}
	if c.RoundTrips()-before < 2 {
		t.Fatal("the failing batch did not span packets")
	}
	if n := kitCount(t, s, "kit_orgs", "tenant_id = 't2'"); n != 0 {
		t.Fatalf("a failed batch left %d of its departments (%s)", n, dbtest.Engine())
	}
	orgs[len(orgs)-1].OrgName = "fits"
	if err := s.UpsertKitOrgs(ctx, orgs); err != nil {
		t.Fatalf("the connection after a failed batch: %v", err)
	}
	if n := kitCount(t, s, "kit_orgs", "tenant_id = 't2'"); n != len(orgs) {
		t.Fatalf("%d departments after the retry, want %d", n, len(orgs))
	}
	if c.Dials() != 1 {
		t.Errorf("%d connections opened, want 1: the failed transaction was not rolled back on its connection", c.Dials())
	}
}
