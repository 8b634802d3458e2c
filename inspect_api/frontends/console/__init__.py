"""The office console (``/console/``): directories, draws, work in progress, reviews, publication, administration."""
