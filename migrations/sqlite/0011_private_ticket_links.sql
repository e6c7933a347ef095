-- A feature request made from a ticket no longer names the ticket in its public history.
UPDATE feature_history SET from_value = NULL WHERE kind = 'from_ticket';
