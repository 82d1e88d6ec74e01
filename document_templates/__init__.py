"""Word (docxtpl) templates of the controlled documents."""
