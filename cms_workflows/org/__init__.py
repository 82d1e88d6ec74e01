"""Organisation (R-5.3): sites, the Annex A departments and positions, users, assignments."""

from cms_workflows.org.service import (  # noqa: F401
    active_assignments,
    assign,
    create_site,
    create_user,
    end_assignment,
    deactivate_user,
    get_position,
    get_site,
    get_user,
    list_assignments,
    list_departments,
    list_positions,
    list_sites,
    list_users,
    seed_reference_data,
    user_departments,
)
