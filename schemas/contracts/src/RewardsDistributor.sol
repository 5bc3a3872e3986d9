// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title RewardsDistributor
/// @notice Pays cumulative rewards against a Merkle root posted once per epoch.
/// Leaves are OpenZeppelin StandardMerkleTree leaves of
/// (address account, uint256 cumulativeAmount):
/// keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount)))).
/// An account is paid cumulativeAmount minus what it already claimed, so a
/// proof from any root pays at most once and never more than that root grants.
///
/// A proposed root waits `timelock` seconds as the pending root, during which
/// the guardian may revoke it; anyone activates it afterwards. The active root
/// stays claimable until then. The contract knows the emission schedule
/// (`emissionPerEpoch` from `firstEpoch` on) and refuses a root whose
/// cumulative total exceeds it, so a stolen poster key cannot grant more than
/// the schedule, nor less than what was already claimed.
contract RewardsDistributor {
    using SafeERC20 for IERC20;

    /// @notice The token rewards are paid in; this contract holds the pool.
    IERC20 public immutable token;
    /// @notice The only key allowed to propose roots.
    address public immutable poster;
    /// @notice The key that may revoke a pending root and pause claims.
    address public immutable guardian;
    /// @notice Seconds between a root's proposal and its activation.
    uint64 public immutable timelock;
    /// @notice Tokens the schedule emits per epoch, and the first paid epoch.
    uint256 public immutable emissionPerEpoch;
    uint64 public immutable firstEpoch;

    /// @notice The active root, the epoch it settles, and the sum of its
    /// cumulative amounts.
    bytes32 public root;
    uint64 public epoch;
    uint256 public total;

    /// @notice The proposed root waiting for its timelock (zero: none).
    bytes32 public pendingRoot;
    uint64 public pendingEpoch;
    uint256 public pendingTotal;
    uint64 public pendingActivatesAt;

    /// @notice Whether claims are paused by the guardian.
    bool public paused;
    /// @notice Cumulative amount already paid to each account, and to all.
    mapping(address account => uint256) public claimed;
    uint256 public totalClaimed;

    event RootProposed(uint64 indexed epoch, bytes32 root, uint256 total, uint64 activatesAt);
    event RootActivated(uint64 indexed epoch, bytes32 root, uint256 total);
    event RootRevoked(uint64 indexed epoch, bytes32 root);
    event Paused(address guardian);
    event Unpaused(address guardian);
    event Claimed(address indexed account, uint256 amount, uint256 cumulativeAmount);

    error NotPoster();
    error NotGuardian();
    error ZeroRoot();
    error EpochNotIncreasing(uint64 latest, uint64 proposed);
    error EpochBeforeSchedule(uint64 firstEpoch, uint64 proposed);
    error OverEmissionCap(uint256 total, uint256 cap);
    error BelowClaimed(uint256 total, uint256 claimed);
    error PendingRootNotActive(uint64 activatesAt);
    error NoPendingRoot();
    error ClaimsPaused();
    error LengthMismatch();
    error InvalidProof();
    error NothingToClaim();

    constructor(
        IERC20 token_,
        address poster_,
        address guardian_,
        uint64 timelock_,
        uint256 emissionPerEpoch_,
        uint64 firstEpoch_
    ) {
        token = token_;
        poster = poster_;
        guardian = guardian_;
        timelock = timelock_;
        emissionPerEpoch = emissionPerEpoch_;
        firstEpoch = firstEpoch_;
    }

    modifier onlyGuardian() {
        if (msg.sender != guardian) revert NotGuardian();
        _;
    }

    /// @notice The most the cumulative total may reach once `epoch_` is paid.
    function emissionCap(uint64 epoch_) public view returns (uint256) {
        if (epoch_ < firstEpoch) return 0;
        return emissionPerEpoch * (uint256(epoch_ - firstEpoch) + 1);
    }

    /// @notice Proposes `root_` for `epoch_`. Epochs strictly increase over
    /// the active and the pending root. A pending root whose timelock has
    /// passed is activated first; one still in its timelock blocks proposals.
    /// With no timelock the root is active at once.
    function proposeRoot(uint64 epoch_, bytes32 root_, uint256 total_) external {
        if (msg.sender != poster) revert NotPoster();
        if (root_ == bytes32(0)) revert ZeroRoot();
        if (pendingRoot != bytes32(0)) {
            if (block.timestamp < pendingActivatesAt) revert PendingRootNotActive(pendingActivatesAt);
            _activate();
        }
        if (epoch_ <= epoch) revert EpochNotIncreasing(epoch, epoch_);
        if (epoch_ < firstEpoch) revert EpochBeforeSchedule(firstEpoch, epoch_);
        uint256 cap = emissionCap(epoch_);
        if (total_ > cap) revert OverEmissionCap(total_, cap);
        if (total_ < totalClaimed) revert BelowClaimed(total_, totalClaimed);
        uint64 activatesAt = uint64(block.timestamp) + timelock;
        pendingRoot = root_;
        pendingEpoch = epoch_;
        pendingTotal = total_;
        pendingActivatesAt = activatesAt;
        emit RootProposed(epoch_, root_, total_, activatesAt);
        if (timelock == 0) _activate();
    }

    /// @notice Activates the pending root once its timelock has passed. Anyone may call it.
    function activateRoot() external {
        if (pendingRoot == bytes32(0)) revert NoPendingRoot();
        if (block.timestamp < pendingActivatesAt) revert PendingRootNotActive(pendingActivatesAt);
        _activate();
    }

    /// @notice Drops the pending root; the active one stays. The poster may
    /// propose the same epoch again.
    function revokePendingRoot() external onlyGuardian {
        if (pendingRoot == bytes32(0)) revert NoPendingRoot();
        emit RootRevoked(pendingEpoch, pendingRoot);
        _clearPending();
    }

    function pause() external onlyGuardian {
        paused = true;
        emit Paused(msg.sender);
    }

    function unpause() external onlyGuardian {
        paused = false;
        emit Unpaused(msg.sender);
    }

    /// @notice Pays `account` its cumulative amount minus what it has claimed.
    /// Anyone may submit; the tokens always go to `account`.
    function claim(address account, uint256 cumulativeAmount, bytes32[] calldata proof) external {
        if (paused) revert ClaimsPaused();
        if (!_claim(account, cumulativeAmount, proof)) revert NothingToClaim();
    }

    /// @notice Claims for many accounts in one transaction; accounts with
    /// nothing left to claim are skipped, a wrong proof reverts all.
    function claimMany(address[] calldata accounts, uint256[] calldata cumulativeAmounts, bytes32[][] calldata proofs)
        external
    {
        if (paused) revert ClaimsPaused();
        if (accounts.length != cumulativeAmounts.length || accounts.length != proofs.length) revert LengthMismatch();
        for (uint256 i = 0; i < accounts.length; i++) {
            _claim(accounts[i], cumulativeAmounts[i], proofs[i]);
        }
    }

    function _claim(address account, uint256 cumulativeAmount, bytes32[] calldata proof) internal returns (bool) {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidProof();
        uint256 already = claimed[account];
        if (cumulativeAmount <= already) return false;
        uint256 amount = cumulativeAmount - already;
        claimed[account] = cumulativeAmount;
        totalClaimed += amount;
        emit Claimed(account, amount, cumulativeAmount);
        token.safeTransfer(account, amount);
        return true;
    }

    function _activate() internal {
        root = pendingRoot;
        epoch = pendingEpoch;
        total = pendingTotal;
        emit RootActivated(pendingEpoch, pendingRoot, pendingTotal);
        _clearPending();
    }

    function _clearPending() internal {
        pendingRoot = bytes32(0);
        pendingEpoch = 0;
        pendingTotal = 0;
        pendingActivatesAt = 0;
    }
}
