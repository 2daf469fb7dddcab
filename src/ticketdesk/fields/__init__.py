"""Custom fields: admin-defined typed fields on tickets."""
