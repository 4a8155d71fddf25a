"""What the seeded rows are made of: the word lists and the (value, weight) tables that
:mod:`shop.seeding` turns into SQL. Small lists on purpose: sortable columns get many duplicates, and
a common surname ("Smith") is in about 1.7% of the customers' names or e-mails."""

from .models import Country, Lead, Order

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen",
    "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty", "Mark", "Sandra", "Paul", "Ashley",
    "Steven", "Kimberly", "Andrew", "Emily", "Kenji", "Donna", "Joshua", "Michelle", "Luca", "Carol",
    "Hans", "Amanda", "Pierre", "Melissa", "Javier", "Deborah", "Priya", "Stephanie", "Marta", "Rebecca",
    "Olga", "Sharon", "Ahmed", "Laura", "Wei", "Cynthia", "Yuki", "Sofia", "Lars", "Ana",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Müller", "Schmidt", "Schneider", "Dubois", "Lefebvre", "Rossi", "Russo", "Kowalski", "Nowak", "Silva",
    "Santos", "Sato", "Suzuki", "Tanaka", "Patel", "Sharma", "Kumar", "Jansen", "de Vries", "O'Brien",
]  # fmt: skip
CITIES = [
    "New York", "Los Angeles", "Chicago", "Houston", "London", "Manchester", "Berlin", "Munich", "Hamburg",
    "Paris", "Lyon", "Madrid", "Barcelona", "Rome", "Milan", "Amsterdam", "Rotterdam", "Warsaw", "Krakow",
    "São Paulo", "Rio de Janeiro", "Mumbai", "Bangalore", "Tokyo", "Osaka", "Toronto", "Vancouver",
]  # fmt: skip
DOMAINS = ["example.com", "example.org", "example.net", "mail.test", "corp.test", "shop.test"]
NOTES = [
    "Gift wrap please", "Leave at the door", "Call before delivery", "Fragile", "Business address",
    "Deliver after 5pm", "Customer requested invoice", "Second attempt", "Express shipping",
]  # fmt: skip
LEAD_NOTES = [
    "Asked for a demo", "Pricing question", "Met at conference", "Wants a callback next week",
    "Budget approved", "Evaluating competitors", "Decision maker", "Follow up in Q3",
]  # fmt: skip

# (value, weight) — weights of each list sum to 100.
ORDER_STATUS_WEIGHTS = [
    (Order.Status.PENDING, 12),
    (Order.Status.PAID, 18),
    (Order.Status.CANCELLED, 8),
    (Order.Status.REFUNDED, 4),
    (Order.Status.SHIPPED, 20),
    (Order.Status.DELIVERED, 38),
]
#: Orders in these states have a ``shipped_at``; the rest (~40%, half the refunds too) have NULL.
SHIPPED_STATES = {Order.Status.SHIPPED, Order.Status.DELIVERED}
LEAD_STATUS_WEIGHTS = [
    (Lead.Status.NEW, 35),
    (Lead.Status.CONTACTED, 25),
    (Lead.Status.QUALIFIED, 20),
    (Lead.Status.WON, 8),
    (Lead.Status.LOST, 12),
]
LEAD_SOURCE_WEIGHTS = [
    (Lead.Source.WEB, 45),
    (Lead.Source.REFERRAL, 15),
    (Lead.Source.ADS, 25),
    (Lead.Source.EVENT, 10),
    (Lead.Source.COLD, 5),
]
COUNTRY_WEIGHTS = [
    (Country.US, 30), (Country.GB, 10), (Country.DE, 10), (Country.FR, 8), (Country.ES, 6), (Country.IT, 6),
    (Country.NL, 4), (Country.PL, 4), (Country.BR, 7), (Country.IN, 7), (Country.JP, 4), (Country.CA, 4),
]  # fmt: skip
