"""Matching by mutual consent: worker profiles, vacancies, suggestions both ways,
facilitator review, introductions and trials."""
