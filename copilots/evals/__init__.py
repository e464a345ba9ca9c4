"""The copilots' evaluation set: cases built from data shipped with scikit-learn and
statsmodels or generated with one known property, each with the judgement a copilot should
reach. `manage.py copilot_eval` runs them and prints a scorecard per copilot."""

from copilots.evals.cases_data import CASES as DATA_CASES
from copilots.evals.cases_models import CASES as MODEL_CASES
from copilots.evals.cases_tasks import CASES as TASK_CASES

CASES = [*DATA_CASES, *MODEL_CASES, *TASK_CASES]
