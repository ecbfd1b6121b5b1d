"""Flask extensions, created unbound and bound in create_app (no config at import)."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from careteams.apidoc import CareteamsApi
from careteams.db import Base

# join_transaction_mode only matters when a session is bound to a connection that
# is already inside a transaction: the test suite's per-test rollback.
db = SQLAlchemy(model_class=Base, session_options={"join_transaction_mode": "create_savepoint"})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
mail = Mail()


api = CareteamsApi()
