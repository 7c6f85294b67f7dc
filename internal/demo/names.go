package demo

// The words the demo builds names, shops, charities and notes from. They
// are made up; any likeness to a real person or business is chance.
var (
	firstNames = []string{"Ana", "Bruno", "Chloé", "Dmitri", "Emma", "Farah", "Gustavo", "Hana", "Ibrahim", "Jun",
		"Kofi", "Lucía", "Mateo", "Nadia", "Olu", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma", "Víctor",
		"Wen", "Ximena", "Yusuf", "Zanele", "Aisha", "Ben", "Carmen", "Diego", "Elif", "Finn", "Grace", "Hugo",
		"Inès", "Jonas", "Keiko", "Liam", "Maya", "Noah", "Omar", "Paula", "Rafael", "Sara", "Tomás", "Vera"}
	lastNames = []string{"Silva", "Müller", "Okafor", "Tanaka", "García", "Nowak", "Haddad", "Smith", "Rossi",
		"Kim", "Dubois", "Pereira", "Andersen", "Costa", "Fischer", "Hughes", "Ivanova", "Jensen", "Khan",
		"López", "Mensah", "Novak", "O'Brien", "Patel", "Quinn", "Reyes", "Santos", "Takahashi", "Urban",
		"Virtanen", "Walsh", "Yilmaz", "Zielinski", "Bianchi", "Chen", "Da Silva", "Eriksen", "Ferreira"}
	departments = []string{"Central", "North", "Harbour", "Traffic", "Community", "Riverside", "East End"}
	towns       = []string{"Riverton", "Eastbrook", "Millford", "Harbourside", "Oakdale", "Westfield", "Stonebridge"}
	streets     = []string{"Market Street", "High Street", "Station Road", "Mill Lane", "Church Street",
		"Harbour Road", "Park Avenue", "Queen's Road", "Bridge Street", "Orchard Way"}
	shops = []string{"Corner", "Riverside", "Harbour", "Old Town", "Sunny", "Green Leaf", "Blue Door",
		"Maple", "Lighthouse", "Market Hall", "Northgate", "Copper Kettle"}
	shopKinds = []string{"Café", "Books", "Bakery", "Grocers", "Cinema", "Barbers", "Cycles", "Deli", "Pool", "Museum Shop"}
	charities = []string{"%s Food Bank", "%s Youth Club", "Friends of %s Shelter", "%s Family Support", "%s Community Pantry", "%s Warm Homes Trust"}
	notes     = []string{"Thank you for all you do", "For the winter", "Happy holidays!", "Keep it up", "From a neighbour", "For the kids"}
	goods     = []good{
		{"COFFEE", "Coffee", 8, 12}, {"SANDWICH", "Sandwich", 15, 25}, {"BUSPASS", "Bus day pass", 12, 20},
		{"CINEMA", "Cinema ticket", 30, 45}, {"BOOK", "Paperback book", 20, 35}, {"GROCERY", "Grocery voucher", 25, 50},
		{"SWIM", "Swimming pass", 10, 18}, {"HAIRCUT", "Haircut", 35, 50}, {"MUSEUM", "Museum entry", 10, 20},
		{"BIKEFIX", "Bike repair", 30, 50},
	}
	closeReasons = []string{"moving away", "no longer use it", "changed jobs", "opened a new account"}
)

// good is an article of the catalogue merchants list from, priced in
// points within [low, high].
type good struct {
	code, name string
	low, high  int64
}
