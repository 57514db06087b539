"""This tutorial's code: config, data, model and training, shared by notebooks and scripts."""
