"""The evaluation set's data: frames from data shipped with scikit-learn and statsmodels (read
offline), and generated frames with one known property each. Every generator has a fixed seed."""

from __future__ import annotations

import numpy as np
import pandas as pd


def sklearn_frame(name: str) -> pd.DataFrame:
    """iris, wine, breast_cancer, diabetes or digits, as shipped with scikit-learn."""
    from sklearn import datasets

    loader = getattr(datasets, f"load_{name}")
    return loader(as_frame=True).frame


def statsmodels_frame(name: str) -> pd.DataFrame:
    """A dataset shipped inside statsmodels (spector, fair, longley, stackloss...)."""
    import importlib

    module = importlib.import_module(f"statsmodels.datasets.{name}")
    return module.load_pandas().data


def penguins(n: int = 344) -> pd.DataFrame:
    """Palmer penguins' shape (not shipped offline): species first with its 152/124/68 split
    (44/36/20), two categories, four body measurements that separate the species well, and a
    year last."""
    rng = np.random.default_rng(11)
    counts = {"Adelie": round(152 / 344 * n), "Gentoo": round(124 / 344 * n)}
    counts["Chinstrap"] = n - sum(counts.values())
    species = np.repeat(list(counts), list(counts.values()))
    rng.shuffle(species)
    centre = {"Adelie": (38.8, 18.3, 190, 3700), "Gentoo": (47.5, 15.0, 217, 5076)}
    centre["Chinstrap"] = (48.8, 18.4, 196, 3733)
    means = np.array([centre[s] for s in species], dtype=float)
    noise = rng.normal(0, 1, (n, 4)) * np.array([1.5, 0.6, 4.0, 300.0])
    values = means + noise
    frame = pd.DataFrame(
        {
            "species": species,
            "island": rng.choice(["Biscoe", "Dream", "Torgersen"], n),
            "bill_length_mm": values[:, 0].round(1),
            "bill_depth_mm": values[:, 1].round(1),
            "flipper_length_mm": values[:, 2].round().astype(int),
            "body_mass_g": values[:, 3].round().astype(int),
            "sex": rng.choice(["male", "female"], n),
            "year": rng.choice([2007, 2008, 2009], n),
        }
    )
    frame.loc[rng.choice(n, 11, replace=False), "sex"] = None
    return frame


def smarket(n: int = 600) -> pd.DataFrame:
    """ISLR's Smarket shape: Year, five lagged returns, Volume, Today and Direction last.
    Today is the day's return, so it alone gives Direction away (a leak)."""
    rng = np.random.default_rng(3)
    lags = rng.normal(0, 1.1, (n, 5)).round(3)
    today = rng.normal(0, 1.1, n).round(3)
    frame = pd.DataFrame({"Year": np.repeat(np.arange(2001, 2006), n // 5 + 1)[:n]})
    for i in range(5):
        frame[f"Lag{i + 1}"] = lags[:, i]
    frame["Volume"] = rng.normal(1.4, 0.3, n).round(4)
    frame["Today"] = today
    frame["Direction"] = np.where(today > 0, "Up", "Down")
    return frame


def carseats(n: int = 400) -> pd.DataFrame:
    """ISLR's Carseats shape: Sales first (a continuous target), a Price column, categories."""
    rng = np.random.default_rng(4)
    price = rng.integers(24, 191, n)
    shelve = rng.choice(["Bad", "Medium", "Good"], n)
    quality = pd.Series(shelve).map({"Bad": -2.0, "Medium": 0.0, "Good": 2.5}).to_numpy()
    sales = (13 - 0.05 * price + quality + rng.normal(0, 1.5, n)).round(2)
    return pd.DataFrame(
        {
            "Sales": sales,
            "CompPrice": rng.integers(77, 175, n),
            "Income": rng.integers(21, 120, n),
            "Price": price,
            "ShelveLoc": shelve,
            "Age": rng.integers(25, 80, n),
            "Urban": rng.choice(["Yes", "No"], n),
            "US": rng.choice(["Yes", "No"], n),
        }
    )


def orange_juice(n: int = 500) -> pd.DataFrame:
    """ISLR's OJ shape: Purchase first (CH or MM), then prices and loyalty."""
    rng = np.random.default_rng(5)
    loyal = rng.random(n).round(4)
    purchase = np.where(loyal + rng.normal(0, 0.25, n) > 0.5, "CH", "MM")
    return pd.DataFrame(
        {
            "Purchase": purchase,
            "WeekofPurchase": rng.integers(227, 279, n),
            "PriceCH": rng.choice([1.69, 1.75, 1.86, 1.99], n),
            "PriceMM": rng.choice([1.69, 1.99, 2.09, 2.18], n),
            "LoyalCH": loyal,
        }
    )


def customers(
    n: int = 1000,
    *,
    minority: float = 0.3,
    leak: bool = False,
    row_number: bool = False,
    date: bool = False,
    near_constant: bool = False,
    seed: int = 7,
) -> pd.DataFrame:
    """A churn table with one knob per known property: a minority share of `minority`, and
    optionally a leaking column, a row-number column first, a date column, a near-constant one.
    """
    rng = np.random.default_rng(seed)
    positives = round(minority * n)
    churn = np.array([1] * positives + [0] * (n - positives))
    rng.shuffle(churn)
    frame = pd.DataFrame()
    if row_number:
        frame["rownames"] = np.arange(1, n + 1)
    frame["tenure"] = (rng.integers(1, 72, n) - 20 * churn).clip(1)
    frame["monthly_charges"] = (rng.normal(70, 20, n) + 8 * churn).round(2)
    frame["contract"] = rng.choice(["monthly", "yearly", "two-year"], n)
    frame["support_calls"] = rng.poisson(1 + churn, n)
    if date:
        start = pd.Timestamp("2022-01-01")
        frame["signup_date"] = (start + pd.to_timedelta(rng.integers(0, 700, n), "D")).strftime(
            "%Y-%m-%d"
        )
    if near_constant:
        status = np.array(["active"] * n, dtype=object)
        status[rng.choice(n, max(1, n // 200), replace=False)] = "frozen"
        frame["account_status"] = status
    if leak:
        # Filled in by the retention team after the customer left: the outcome in disguise.
        frame["cancellation_fee"] = np.where(churn == 1, rng.normal(45, 5, n), 0.0).round(2)
    frame["churn"] = churn
    return frame


def mostly_unlabelled() -> pd.DataFrame:
    """Twelve customers, four without a churn label: eight rows to train on, too few."""
    frame = customers(n=12, minority=0.5)
    frame["churn"] = frame["churn"].astype("Int64")
    frame.loc[[0, 3, 6, 9], "churn"] = pd.NA
    return frame


def three_classes(n: int = 500, shares=(0.442, 0.36, 0.198), seed: int = 8) -> pd.DataFrame:
    """A three-class target with the given shares (by default 44/36/20, the smallest just under
    a fifth of the rows) and two informative measurements."""
    rng = np.random.default_rng(seed)
    counts = [round(s * n) for s in shares]
    counts[-1] = n - sum(counts[:-1])
    labels = np.repeat(["alpha", "beta", "gamma"], counts)
    rng.shuffle(labels)
    shift = pd.Series(labels).map({"alpha": 0.0, "beta": 1.5, "gamma": 3.0}).to_numpy()
    return pd.DataFrame(
        {
            "width": (rng.normal(0, 1, n) + shift).round(3),
            "height": (rng.normal(0, 1, n) - shift).round(3),
            "colour": rng.choice(["red", "green"], n),
            "grade": labels,
        }
    )


def prices(n: int = 300, seed: int = 9) -> pd.DataFrame:
    """A continuous target (price) beside a size and a room count."""
    rng = np.random.default_rng(seed)
    size = rng.normal(80, 20, n).round(1)
    rooms = rng.integers(1, 7, n)
    return pd.DataFrame(
        {
            "size": size,
            "rooms": rooms,
            "price": (size * 3100 + rooms * 5000 + rng.normal(0, 9000, n)).round(2),
        }
    )


def shifted(frame: pd.DataFrame, columns: list[str], by: float) -> pd.DataFrame:
    """`frame` with each numeric column of `columns` moved by `by` of its standard deviation."""
    moved = frame.copy()
    for column in columns:
        moved[column] = moved[column] + by * moved[column].std()
    return moved


def monthly_series(n: int = 144) -> pd.DataFrame:
    """A generated monthly series from 1949-01: `month` (text like 1949-01) and `passengers`."""
    from engine.timeseries import monthly_demo_frame

    return monthly_demo_frame(n)


def daily_series(n: int = 120, seed: int = 12) -> pd.DataFrame:
    """A generated daily series with a weekly season: `day` (2024-01-01...), `visits` and a
    `weekday` label beside it."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=n, freq="D")
    visits = 500 + 60 * np.sin(2 * np.pi * np.arange(n) / 7) + rng.normal(0, 15, n)
    return pd.DataFrame(
        {"day": days.strftime("%Y-%m-%d"), "weekday": days.day_name(), "visits": visits.round(1)}
    )


def measurements() -> pd.DataFrame:
    """scikit-learn's iris measurements without the species: four numeric columns, no target."""
    return sklearn_frame("iris").drop(columns="target")
