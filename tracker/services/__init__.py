"""Services hold the logic; views, commands and jobs call them."""
