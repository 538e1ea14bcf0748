"""The generated catalogue: ~200 products in 20 categories, Zipf-like popularity, fixed FX rates."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from connector.sandbox.datagen_rand import Draws, cumulative, kind_base
from connector.sandbox.records import Product

__all__ = ["CATEGORIES", "FX_RATES", "Catalog", "to_cents"]

# Units of each currency per 1 USD; fixed so that converted prices are reproducible.
FX_RATES: Mapping[str, Decimal] = MappingProxyType({
    "USD": Decimal("1"),
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "CAD": Decimal("1.36"),
    "CHF": Decimal("0.88"),
    "AUD": Decimal("1.52"),
})
_CENT = Decimal("0.01")
_CATALOG_KIND = 11
_ZIPF_EXPONENT = 1.1

# (category, product types, vendors, min price, max price) in USD.
CATEGORIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], int, int], ...] = (
    ("Apparel", ("T-shirt", "Sweatshirt", "Hoodie", "Jacket"), ("Northwind", "Maison Lune"), 15, 120),
    ("Shoes", ("Sneakers", "Boots", "Sandals"), ("Stride", "Pas à Pas"), 40, 180),
    ("Accessories", ("Cap", "Scarf", "Belt", "Wallet"), ("Northwind", "Atelier Fil"), 10, 70),
    ("Bags", ("Backpack", "Tote bag", "Handbag"), ("Carry Co.", "Atelier Fil"), 25, 220),
    ("Jewelry", ("Necklace", "Ring", "Earrings", "Bracelet"), ("Or Blanc", "Lumen"), 20, 250),
    ("Home", ("Candle", "Cushion", "Throw blanket", "Vase"), ("Casa Nova", "Hygge House"), 12, 110),
    ("Kitchen", ("Mug", "Cutting board", "Knife set", "Teapot"), ("Casa Nova", "Chef's Table"), 8, 160),
    ("Beauty", ("Lipstick", "Mascara", "Eyeshadow palette"), ("Belle Mine", "Glow Lab"), 9, 55),
    ("Skincare", ("Face cream", "Serum", "Cleanser"), ("Glow Lab", "Pure Derm"), 12, 85),
    ("Fragrance", ("Eau de parfum", "Eau de toilette"), ("Maison Lune", "Sillage"), 35, 140),
    ("Sports", ("Yoga mat", "Water bottle", "Dumbbells"), ("Peak Form", "Stride"), 10, 90),
    ("Outdoor", ("Tent", "Sleeping bag", "Headlamp"), ("Trailhead", "Peak Form"), 20, 320),
    ("Electronics", ("Headphones", "Phone case", "Charger"), ("Voltix", "Sonora"), 15, 250),
    ("Books", ("Novel", "Cookbook", "Travel guide"), ("Papier & Co", "Inkwell"), 8, 45),
    ("Toys", ("Puzzle", "Plush toy", "Board game"), ("Happy Cubs", "Ludo"), 10, 60),
    ("Baby", ("Bodysuit", "Baby blanket", "Rattle"), ("Happy Cubs", "Petit Nid"), 9, 50),
    ("Pets", ("Dog collar", "Cat toy", "Pet bed"), ("Wag & Purr", "Furbuddy"), 6, 90),
    ("Stationery", ("Notebook", "Pen set", "Planner"), ("Papier & Co", "Inkwell"), 5, 40),
    ("Food & Drink", ("Coffee beans", "Tea", "Chocolate"), ("Terroir", "Cacao Club"), 6, 35),
    ("Garden", ("Planter", "Seed kit", "Garden gloves"), ("Green Thumb", "Jardin Vert"), 8, 75),
)
_ADJECTIVES = ("Classic", "Organic", "Essential", "Premium", "Vintage", "Everyday", "Signature", "Recycled", "Mini",
               "Deluxe")
_PRODUCTS_PER_CATEGORY = 10


def to_cents(amount: Decimal) -> Decimal:
    """Round to the currency's minor units (2 places), half up."""
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


class Catalog:
    """A shop's products, their popularity, and their prices in every currency the shop sells in."""

    def __init__(self, seed: int, base_currency: str, currencies: tuple[str, ...]) -> None:
        base = kind_base(seed, _CATALOG_KIND)
        products: list[Product] = []
        for ci, (category, types, vendors, low, high) in enumerate(CATEGORIES):
            for j in range(_PRODUCTS_PER_CATEGORY):
                pid = ci * _PRODUCTS_PER_CATEGORY + j + 1
                d = Draws(base, pid)
                product_type = types[j % len(types)]
                usd = low + (high - low) * d.u() ** 2  # cheap items are the common ones
                price = Decimal(int(usd * float(FX_RATES[base_currency]))) + d.pick((Decimal("0.99"), Decimal("0.90"),
                                                                              Decimal("0.00"), Decimal("0.50")))
                products.append(
                    Product(
                        product_id=pid,
                        variant_id=40_000 + pid,
                        sku=f"{category[:3].upper()}-{product_type[:3].upper()}-{pid:04d}",
                        title=f"{_ADJECTIVES[(j + ci) % len(_ADJECTIVES)]} {product_type}",
                        product_type=product_type,
                        category=category,
                        vendor=vendors[j % len(vendors)],
                        price=max(price, Decimal("1.00")),
                    )
                )
        self.products: tuple[Product, ...] = tuple(products)
        # Popularity rank is a seeded shuffle, so the best sellers are spread over categories.
        order = sorted(range(len(products)), key=lambda i: Draws(base, 10_000 + i).u())
        weights = [0.0] * len(products)
        for rank, i in enumerate(order):
            weights[i] = 1.0 / (rank + 1) ** _ZIPF_EXPONENT
        self.popularity: tuple[float, ...] = cumulative(weights)
        self.prices: dict[str, tuple[Decimal, ...]] = {
            cur: tuple(to_cents(p.price / FX_RATES[base_currency] * FX_RATES[cur]) for p in products)
            for cur in {base_currency, *currencies}
        }
