"""The content model: features, the lean scorer, training, evaluation, online learning."""
