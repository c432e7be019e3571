"""The grader's security boundary: everything that touches what a learner controls."""
