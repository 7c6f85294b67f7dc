package product_test

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/product"
)

// TestStockInvariants runs random sequences of Restock, Reprice, Delist and
// Redeem on a listed product and checks, after every command:
//
//   - the stock never goes negative, and equals the listed stock plus the
//     restocks minus the units sold;
//   - the points earned equal the sum of each sale's units times the price
//     it was made at, and every sale's Points is its units times its price;
//   - a delisted product neither changes stock nor sells;
//   - a refused command is a *domain.Error and produces no event.
//
// The seed is fixed so that a failure replays; the counts at the end make
// sure every rule was actually reached.
func TestStockInvariants(t *testing.T) {
	const sequences = 10_000
	rng := rand.New(rand.NewPCG(20260301, 7))
	seen := map[string]int{}

	for seq := range sequences {
		start := listed
		start.Stock = rng.Int64N(20)
		state := product.Evolve(product.Initial(), start)
		restocked, sold, earned := int64(0), int64(0), int64(0)
		for step := range 1 + rng.IntN(40) {
			cmd := randomCommand(rng, state)
			before := state
			events, err := product.Decide(state, cmd)
			if err != nil {
				de := domain.As(err)
				if de == nil || len(events) != 0 {
					t.Fatalf("seq %d step %d: %T refused with %v (%T) and %d event(s)", seq, step, cmd, err, err, len(events))
				}
				seen[de.Code]++
				continue
			}
			seen[reflect.TypeOf(cmd).Name()]++
			for _, e := range events {
				state = product.Evolve(state, e)
				switch e := e.(type) {
				case product.ProductRestocked:
					restocked += e.Quantity
				case product.ProductRedeemed:
					if e.Points != e.Quantity*e.UnitPrice || e.UnitPrice != before.PricePoints || e.StockAfter != state.Stock {
						t.Fatalf("seq %d step %d: inconsistent sale %+v on %+v", seq, step, e, before)
					}
					sold += e.Quantity
					earned += e.Points
				}
			}
			switch {
			case state.Stock < 0:
				t.Fatalf("seq %d step %d: negative stock %d", seq, step, state.Stock)
			case state.Stock != start.Stock+restocked-sold:
				t.Fatalf("seq %d step %d: stock %d, want %d+%d-%d", seq, step, state.Stock, start.Stock, restocked, sold)
			case state.UnitsSold != sold || state.PointsEarned != earned:
				t.Fatalf("seq %d step %d: sold %d for %d, want %d for %d", seq, step, state.UnitsSold, state.PointsEarned, sold, earned)
			case before.Status == product.Delisted && (state.Stock != before.Stock || state.UnitsSold != before.UnitsSold):
				t.Fatalf("seq %d step %d: %T changed a delisted product", seq, step, cmd)
			}
		}
	}

	for _, outcome := range []string{
		"Restock", "Reprice", "Delist", "Redeem",
		domain.CodeInvalid, domain.CodeConflict, domain.CodeForbidden, product.CodeInsufficientStock,
	} {
		if seen[outcome] < 100 {
			t.Errorf("outcome %s reached %d times; the generator no longer exercises it", outcome, seen[outcome])
		}
	}
	t.Logf("outcomes over %d sequences: %v", sequences, seen)
}

// randomCommand returns a command, mostly valid, sometimes with bad input or
// a stale expected price.
func randomCommand(rng *rand.Rand, state product.State) any {
	at := t1.Add(time.Duration(rng.IntN(1000)) * time.Minute)
	switch r := rng.IntN(100); {
	case r < 20:
		return product.Restock{Quantity: rng.Int64N(15) - 2, At: at}
	case r < 30:
		return product.Reprice{PricePoints: rng.Int64N(60) - 2, At: at}
	case r < 33:
		return product.Delist{At: at}
	default:
		cmd := product.Redeem{TxID: "tx", RedeemerID: "c-1", Quantity: rng.Int64N(8) - 1, Voucher: "VCH-12345678", At: at}
		switch rng.IntN(20) {
		case 0:
			cmd.RedeemerID = state.MerchantID
		case 1:
			cmd.ExpectedPrice = state.PricePoints + 1
		case 2, 3, 4:
			cmd.ExpectedPrice = state.PricePoints
		}
		return cmd
	}
}
