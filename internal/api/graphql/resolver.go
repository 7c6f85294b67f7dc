package graphql

// Resolver is the root of the resolvers; each kind of object gets its own
// type over it, as gqlgen's ResolverRoot asks.
type Resolver struct{ s *server }

type (
	queryResolver        struct{ *Resolver }
	mutationResolver     struct{ *Resolver }
	subscriptionResolver struct{ *Resolver }
	accountResolver      struct{ *Resolver }
	connectionResolver   struct{ *Resolver }
	eventResolver        struct{ *Resolver }
	officerMetResolver   struct{ *Resolver }
	productResolver      struct{ *Resolver }
	transactionResolver  struct{ *Resolver }
)

// Query returns the root query resolver.
func (r *Resolver) Query() QueryResolver { return &queryResolver{r} }

// Mutation returns the root mutation resolver.
func (r *Resolver) Mutation() MutationResolver { return &mutationResolver{r} }

// Subscription returns the root subscription resolver.
func (r *Resolver) Subscription() SubscriptionResolver { return &subscriptionResolver{r} }

// Account returns the resolver of Account's computed fields.
func (r *Resolver) Account() AccountResolver { return &accountResolver{r} }

// Connection returns the resolver of Connection's computed fields.
func (r *Resolver) Connection() ConnectionResolver { return &connectionResolver{r} }

// Event returns the resolver of Event's computed fields.
func (r *Resolver) Event() EventResolver { return &eventResolver{r} }

// OfficerMet returns the resolver of OfficerMet's computed fields.
func (r *Resolver) OfficerMet() OfficerMetResolver { return &officerMetResolver{r} }

// Product returns the resolver of Product's computed fields.
func (r *Resolver) Product() ProductResolver { return &productResolver{r} }

// Transaction returns the resolver of Transaction's computed fields.
func (r *Resolver) Transaction() TransactionResolver { return &transactionResolver{r} }
