// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// @title RewardsDistributor
/// @notice Pays cumulative rewards against a Merkle root posted once per epoch.
/// Leaves are OpenZeppelin StandardMerkleTree leaves of
/// (address account, uint256 cumulativeAmount):
/// keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount)))).
/// An account is paid cumulativeAmount minus what it already claimed, so a
/// proof from any root pays at most once and never more than that root grants.
///
/// No single key decides a root: a root is proposed with the EIP-712
/// signatures of `threshold` of the `signers` (n <= 32, n/2 < threshold <= n)
/// over a Vote that names the epoch, the root, its total, the root it builds
/// on, the hash of the inputs it was computed from, the rules version and the
/// current `round`. Anyone holding k signatures may submit them. Changing the
/// signer set takes k signatures of the current set; it and a guardian
/// revocation bump the round, which kills every signature in flight.
///
/// A proposed root waits `timelock` seconds as the pending root, during which
/// the guardian may revoke it; anyone activates it afterwards. The active root
/// stays claimable until then. The contract knows the emission schedule
/// (`emissionPerEpoch` from `firstEpoch` on) and refuses a root whose
/// cumulative total exceeds it, so even k colluding signers cannot grant more
/// than the schedule, nor less than what was already claimed.
contract RewardsDistributor {
    using SafeERC20 for IERC20;

    /// @notice What a signer signs for a root (EIP-712, domain
    /// "fieldmint RewardsDistributor" version 1, this chain and contract).
    struct Vote {
        uint64 epoch;
        bytes32 root;
        uint256 total;
        bytes32 prevRoot;
        bytes32 inputs;
        uint32 rules;
        uint64 round;
    }

    bytes32 public constant VOTE_TYPEHASH = keccak256(
        "Vote(uint64 epoch,bytes32 root,uint256 total,bytes32 prevRoot,bytes32 inputs,uint32 rules,uint64 round)"
    );
    bytes32 public constant SIGNER_SET_TYPEHASH =
        keccak256("SignerSet(address[] signers,uint8 threshold,uint64 round)");
    uint256 public constant MAX_SIGNERS = 32;
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant NAME_HASH = keccak256("fieldmint RewardsDistributor");
    bytes32 private constant VERSION_HASH = keccak256("1");

    /// @notice The token rewards are paid in; this contract holds the pool.
    IERC20 public immutable token;
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

    /// @notice The signer set in ascending order, its threshold, and the round
    /// every signature must name. signerIndex is a signer's index plus one.
    address[] internal _signers;
    mapping(address signer => uint256) public signerIndex;
    uint8 public threshold;
    uint64 public round;

    /// @notice Whether claims are paused by the guardian.
    bool public paused;
    /// @notice Cumulative amount already paid to each account, and to all.
    mapping(address account => uint256) public claimed;
    uint256 public totalClaimed;

    event RootProposed(uint64 indexed epoch, bytes32 root, uint256 total, uint64 activatesAt);
    event RootActivated(uint64 indexed epoch, bytes32 root, uint256 total);
    event RootRevoked(uint64 indexed epoch, bytes32 root);
    /// @notice Who signed a proposed root: bit i of signedBy is signers()[i] of `round`.
    event RootSigned(uint64 indexed epoch, bytes32 prevRoot, bytes32 inputs, uint32 rules, uint64 round, uint32 signedBy);
    event SignersChanged(uint64 round, address[] signers, uint8 threshold);
    event Paused(address guardian);
    event Unpaused(address guardian);
    event Claimed(address indexed account, uint256 amount, uint256 cumulativeAmount);

    error BadSignerSet();
    error WrongRound(uint64 round, uint64 voted);
    error WrongPrevRoot(bytes32 root, bytes32 voted);
    error BadSignature(uint256 index);
    error NotSigner(address signer);
    error SignersNotAscending(uint256 index);
    error TooFewSignatures(uint256 valid, uint8 threshold);
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
        address[] memory signers_,
        uint8 threshold_,
        address guardian_,
        uint64 timelock_,
        uint256 emissionPerEpoch_,
        uint64 firstEpoch_
    ) {
        token = token_;
        _setSigners(signers_, threshold_);
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

    /// @notice The signer set, ascending.
    function signers() external view returns (address[] memory) {
        return _signers;
    }

    /// @notice The EIP-712 domain separator. Computed on each call rather
    /// than cached in immutables as OpenZeppelin's EIP712 does: its cache
    /// holds this contract's address, so the runtime code would differ from
    /// the creation that deploy-contracts simulates to check it byte for byte.
    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    function _hashTypedDataV4(bytes32 structHash) internal view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(domainSeparator(), structHash);
    }

    /// @notice The EIP-712 digest a signer signs for `vote`.
    function voteDigest(Vote calldata vote) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VOTE_TYPEHASH, vote)));
    }

    /// @notice The EIP-712 digest a signer signs to replace the signer set
    /// with `signers_` (ascending) and `threshold_` in the current round.
    function signerSetDigest(address[] calldata signers_, uint8 threshold_) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(SIGNER_SET_TYPEHASH, keccak256(abi.encodePacked(signers_)), threshold_, round))
        );
    }

    /// @notice Proposes `vote.root` for `vote.epoch` with the signatures of at
    /// least `threshold` signers, ordered by signer address. The vote must name
    /// the current round and build on the root that is active once a due
    /// pending root is activated. Epochs strictly increase over the active and
    /// the pending root. A pending root whose timelock has passed is activated
    /// first; one still in its timelock blocks proposals. With no timelock the
    /// root is active at once.
    function proposeRoot(Vote calldata vote, bytes[] calldata signatures) external {
        if (vote.round != round) revert WrongRound(round, vote.round);
        uint32 signedBy = _checkSignatures(voteDigest(vote), signatures);
        uint64 epoch_ = vote.epoch;
        bytes32 root_ = vote.root;
        uint256 total_ = vote.total;
        if (root_ == bytes32(0)) revert ZeroRoot();
        if (pendingRoot != bytes32(0)) {
            if (block.timestamp < pendingActivatesAt) revert PendingRootNotActive(pendingActivatesAt);
            _activate();
        }
        if (vote.prevRoot != root) revert WrongPrevRoot(root, vote.prevRoot);
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
        emit RootSigned(epoch_, vote.prevRoot, vote.inputs, vote.rules, vote.round, signedBy);
        if (timelock == 0) _activate();
    }

    /// @notice Replaces the signer set and threshold with the signatures of
    /// `threshold` current signers over signerSetDigest; bumps the round.
    function updateSigners(address[] calldata signers_, uint8 threshold_, bytes[] calldata signatures) external {
        _checkSignatures(signerSetDigest(signers_, threshold_), signatures);
        for (uint256 i = 0; i < _signers.length; i++) {
            delete signerIndex[_signers[i]];
        }
        _setSigners(signers_, threshold_);
    }

    /// @notice Activates the pending root once its timelock has passed. Anyone may call it.
    function activateRoot() external {
        if (pendingRoot == bytes32(0)) revert NoPendingRoot();
        if (block.timestamp < pendingActivatesAt) revert PendingRootNotActive(pendingActivatesAt);
        _activate();
    }

    /// @notice Drops the pending root; the active one stays. The signers may
    /// propose the same epoch again, with new signatures: the round moves on.
    function revokePendingRoot() external onlyGuardian {
        if (pendingRoot == bytes32(0)) revert NoPendingRoot();
        emit RootRevoked(pendingEpoch, pendingRoot);
        _clearPending();
        round++;
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

    /// Counts the signatures of distinct signers, which must ascend by
    /// address, and returns them as a bitmap of signer indices; reverts
    /// below the threshold or on any signature that is not a signer's.
    function _checkSignatures(bytes32 digest, bytes[] calldata signatures) internal view returns (uint32 signedBy) {
        address last = address(0);
        for (uint256 i = 0; i < signatures.length; i++) {
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert BadSignature(i);
            uint256 index = signerIndex[signer];
            if (index == 0) revert NotSigner(signer);
            if (signer <= last) revert SignersNotAscending(i);
            signedBy |= uint32(1) << uint32(index - 1);
            last = signer;
        }
        if (signatures.length < threshold) revert TooFewSignatures(signatures.length, threshold);
    }

    function _setSigners(address[] memory signers_, uint8 threshold_) internal {
        uint256 n = signers_.length;
        if (n == 0 || n > MAX_SIGNERS || threshold_ > n || uint256(threshold_) * 2 <= n) revert BadSignerSet();
        address last = address(0);
        for (uint256 i = 0; i < n; i++) {
            if (signers_[i] <= last) revert BadSignerSet();
            signerIndex[signers_[i]] = i + 1;
            last = signers_[i];
        }
        _signers = signers_;
        threshold = threshold_;
        round++;
        emit SignersChanged(round, signers_, threshold_);
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
