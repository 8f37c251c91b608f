# Plans, subscriptions, seats and invoices arrive with their issue.
