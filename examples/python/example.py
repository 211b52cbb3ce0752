"""A notebook-style tour of idstitch from Python. Run it after installing the
bindings (``pip install ./examples/python``):

    python examples/python/example.py
"""

import pandas as pd
import pyarrow as pa

import idstitch

# %% 1. Normalise single identifiers: canonical value or None.
print(idstitch.normalize_phone("8 (812) 555-12-34"))  # St Petersburg landline, E.164
print(idstitch.normalize_email("Ivan.Petrov+promo@googlemail.com"))  # Gmail rules
print(idstitch.normalize_email("noreply@shop.ru"), idstitch.why("email", "noreply@shop.ru"))
print(idstitch.name_key("Щукин") == idstitch.name_key("Shchukin"))

# %% 2. Vectorised, over an Arrow column: no Python object per value, no GIL.
phones = pa.chunked_array([["+7 912 345-67-89", "89123456789", "000", None]])
print(idstitch.normalize_many("phone", phones))

# %% 3. Resolve a table of channel records into identities.
records = pd.DataFrame(
    [
        {"record_id": "crm:1", "source": "crm", "first_name": "Александр", "last_name": "Иванов",
         "phone": "+7 912 345-67-89", "email": "ivanov@mail.ru", "dob": "03.04.1990",
         "consent": "email;sms"},
        {"record_id": "tg:9", "source": "telegram", "first_name": "Саша", "phone": "8 (912) 345-67-89"},
        {"record_id": "web:4", "source": "web", "full_name": "Ivanov Alexander",
         "email": "IVANOV@MAIL.RU", "last_seen": "2024-05-01"},
        {"record_id": "pos:2", "source": "pos", "phone": "+7 912 345-67-89", "opt_out": "sms"},
        {"record_id": "web:5", "source": "web", "first_name": "Ольга", "last_name": "Петрова",
         "phone": "+79991234567"},
    ]
)
resolver = idstitch.Resolver(source_priority=["crm", "web"])
clusters = resolver.resolve(records)  # a DataFrame in, a DataFrame out
print(clusters)

# %% 4. Why were two records linked? Every field's contribution, summing to the score.
why = resolver.explain("crm:1", "tg:9")
print(why["rule"], round(why["probability"], 4))
for c in why["contributions"]:
    if c["level"] != "missing":
        print(f"  {c['field']:<12} {c['level']:<18} {c['weight']:+.2f}")

# %% 5. One golden profile per identity: survivorship, provenance, consent.
for p in resolver.profiles():
    print(p["identity"], [v["value"] for v in p["phones"]], p["consent"])

# %% 6. Keep the trained model; resolve the next batch with the same weights.
resolver.save_model("model.json")
nightly = idstitch.Resolver()
nightly.load_model("model.json")
print(nightly.resolve(records.iloc[:3]))

# %% 7. Accuracy against known truth.
truth = ["ivanov", "ivanov", "ivanov", "ivanov", "petrova"]
print(idstitch.evaluate(clusters["cluster_id"].tolist(), truth)["bcubed"])
