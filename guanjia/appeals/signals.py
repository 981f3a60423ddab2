"""What the lifecycle tells other apps, inside the transition's transaction (the appeals app imports
none of them): smart dispatch keeps its similarity index and its suggestions' adoption from these."""

from django.dispatch import Signal

# appeal: the new Appeal, saved.
appeal_submitted = Signal()
# appeal: the Appeal just dispatched (or re-dispatched after a return); lead: its new lead Assignment;
# by: the dispatcher.
appeal_dispatched = Signal()
# appeal: the Appeal answered; assignment: the lead Assignment, with its answer set.
appeal_answered = Signal()
