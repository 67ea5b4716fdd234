from django.dispatch import Signal

# Sent inside the transaction that marks a batch published (kwargs: batch). The open-books
# report stores the Merkle root of the batch's charges on it.
batch_published = Signal()
