"""The reference model of bench:quality: scikit-learn TF-IDF + LogisticRegression.

Reads a JSON file {"train": [{"text", "label"}], "validation": [...]} (the split the built-in
trainer used) and prints {"macroF1": ..., "accuracy": ...} as one JSON line. Exit code 3 when
scikit-learn is not installed (Debian: python3-sklearn).
"""
import json
import sys

try:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
except ImportError:
    sys.exit(3)

with open(sys.argv[1], encoding="utf-8") as f:
    split = json.load(f)
train, validation = split["train"], split["validation"]
vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
x_train = vectorizer.fit_transform([e["text"] for e in train])
x_val = vectorizer.transform([e["text"] for e in validation])
model = LogisticRegression(max_iter=1000)
model.fit(x_train, [e["label"] for e in train])
truth = [e["label"] for e in validation]
predicted = model.predict(x_val)
print(json.dumps({
    "macroF1": f1_score(truth, predicted, average="macro"),
    "accuracy": accuracy_score(truth, predicted),
}))
