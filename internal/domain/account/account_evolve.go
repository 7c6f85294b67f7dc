package account

// Evolve applies one event to the state. It trusts the event (Decide checked
// the command that produced it) and ignores event types it does not know, so
// that an older binary can still fold a stream a newer one wrote to.
//
// The balance is recomputed from the points of each entry, not copied from
// the entry's Balance, so that the ledger adds up by construction.
func Evolve(state State, event any) State {
	switch e := event.(type) {
	case AccountOpened:
		return State{
			ID:                  e.AccountID,
			Kind:                e.Kind,
			Status:              e.Status,
			Name:                e.Name,
			Email:               e.Email,
			Phone:               e.Phone,
			Profile:             e.Profile,
			CredentialsAssigned: e.CredentialsAssigned,
			EmailIndex:          e.EmailIndex,
			OpenedAt:            e.OpenedAt,
		}
	case AccountVerified:
		state.Status = Active
		state.VerifiedBy = e.VerifiedBy
		state.VerifiedAt = e.VerifiedAt
	case ProfileUpdated:
		state.Name = e.Name
		state.Phone = e.Phone
		state.Profile = e.Profile
	case AccountClosed:
		state.Status = Closed
		state.ClosedAt = e.ClosedAt
	case PersonalDataErased:
		state.ErasedAt = e.ErasedAt
	case PointsCredited:
		state.Balance += e.Points
	case PointsDebited:
		state.Balance -= e.Points
	}
	return state
}
